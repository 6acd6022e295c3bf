/*
 * JSON API of events (E-01, E-06): REG/events and what hangs under an event — sessions,
 * registrations and their cancellation, attendance, meetings, sharing with the co-organiser, the public chat of a
 * virtual session, and the event as iCalendar. Each handler makes one call into
 * core/event.c, which checks the declaration and writes the usage-log entries; who may call
 * each route (viewers read, editors record, managers share) is in the route table, and only
 * editors and managers are shown the chat messages.
 */
#include <string.h>

#include "core/event.h"
#include "http/http.h"

static void add_location(struct req *r, const char *path)
{
	if (r->resp)
		MHD_add_response_header(
		        r->resp, "Location",
		        arena_printf(&r->mem, "/api/v1/registers/%s/events/%s", r->rid, path));
}

void api_event_create(struct req *r)
{
	json_t *in = req_json_or_reply(r), *out = NULL;
	int64_t id = 0;
	if (!in)
		return;
	int rc = event_create(&r->ctx, r->rid, in, &id);
	json_decref(in);
	/* A new event has no participants yet: reading it back shows no personal data. */
	if (!rc)
		rc = event_get(&r->ctx, r->rid, id, 0, &out);
	reply_core(r, rc, 201, out);
	if (!rc)
		add_location(r, arena_printf(&r->mem, "%lld", (long long)id));
}

void api_event_list(struct req *r)
{
	long long limit;
	json_t *out = NULL;
	if (!req_int_arg_or_reply(r, "limit", 0, 1, 1000, &limit))
		return;
	int rc = event_list(&r->ctx, r->rid, req_arg(r, "from"), req_arg(r, "cursor"), (int)limit,
	                    &out);
	reply_core(r, rc, 200, out);
}

void api_event_get(struct req *r)
{
	json_t *out = NULL;
	int rc = event_get(&r->ctx, r->rid, r->id, r->role >= ROLE_EDITOR ? EVENT_GET_CHAT : 0,
	                   &out);
	reply_core(r, rc, 200, out);
}

void api_event_participants(struct req *r)
{
	json_t *out = NULL;
	int rc = event_participant_list(&r->ctx, r->rid, r->id, &out);
	reply_core(r, rc, 200, out);
}

void api_event_ics(struct req *r)
{
	struct buf b = BUF_INIT;
	if (event_ics(&r->ctx, r->rid, r->id, &b) != 0) {
		buf_free(&b);
		reply_problem(r);
		return;
	}
	reply_buf(r, 200, "text/calendar; charset=utf-8", &b);
}

void api_event_session(struct req *r)
{
	json_t *in = req_json_or_reply(r);
	int64_t sid = 0;
	if (!in)
		return;
	int rc = event_session_add(&r->ctx, r->rid, r->id, in, &sid);
	json_decref(in);
	reply_core(
	        r, rc, 201,
	        rc ? NULL
	           : json_pack("{s:I, s:I}", "id", (json_int_t)sid, "event_id", (json_int_t)r->id));
}

/* A participation call: {event_id, person_id, …} of the input echoed back on success. */
static void participation(struct req *r, int (*fn)(struct kctx *, const char *, int64_t, json_t *))
{
	json_t *in = req_json_or_reply(r);
	if (!in)
		return;
	int rc = fn(&r->ctx, r->rid, r->id, in);
	json_t *out = NULL;
	if (!rc) {
		out = json_deep_copy(in);
		json_object_del(out, "consents");
		json_object_set_new(out, "event_id", json_integer(r->id));
	}
	json_decref(in);
	reply_core(r, rc, 201, out);
}

void api_event_reg(struct req *r)
{
	participation(r, event_register);
}

/* Cancels a registration: the fact is kept with its time, the participation ends. */
void api_event_cancel(struct req *r)
{
	if (event_cancel(&r->ctx, r->rid, r->id, r->pid) == 0)
		reply_text(r, 204, NULL, "", 0);
	else
		reply_problem(r);
}

void api_event_attend(struct req *r)
{
	participation(r, event_attend);
}

void api_event_meeting(struct req *r)
{
	json_t *in = req_json_or_reply(r);
	int64_t mid = 0;
	if (!in)
		return;
	int rc = event_meeting(&r->ctx, r->rid, r->id, in, &mid);
	json_t *out = rc ? NULL
	                 : json_pack("{s:I, s:I, s:O}", "id", (json_int_t)mid, "event_id",
	                             (json_int_t)r->id, "parties", json_object_get(in, "parties"));
	json_decref(in);
	reply_core(r, rc, 201, out);
}

void api_event_share(struct req *r)
{
	json_t *in = req_json_or_reply(r), *out = NULL;
	if (!in)
		return;
	int rc = event_share(&r->ctx, r->rid, r->id, in, &out);
	json_decref(in);
	reply_core(r, rc, 200, out);
}

void api_chat(struct req *r)
{
	json_t *in = req_json_or_reply(r), *out = NULL;
	if (!in)
		return;
	int rc = event_chat_import(&r->ctx, r->rid, r->id, r->sid, in, &out);
	json_decref(in);
	reply_core(r, rc, 200, out);
}
