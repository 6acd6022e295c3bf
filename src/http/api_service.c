/*
 * JSON API of advisory and customer-service records (E-02 … E-04) and of the service
 * statistics (E-05). The router has checked the caller's least role on {rid}; the core
 * checks it again, validates the content against its allow-list and logs every read and
 * change. A record's routes take its own id, not its person's: /records/{id}.
 */
#include <string.h>

#include "core/service.h"
#include "http/http.h"
#include "util/buf.h"

/* POST REG/persons/{id}/records {type, on, data} → 201 {id}, Location of the record */
void api_service_create(struct req *r)
{
	json_t *in = req_json_or_reply(r);
	int64_t id = 0;
	if (!in)
		return;
	int rc = service_record_add(&r->ctx, r->rid, r->id, in, &id);
	json_decref(in);
	reply_core(r, rc, 201, rc ? NULL : json_pack("{s:I}", "id", (json_int_t)id));
	if (rc == 0 && r->resp) {
		char *loc = arena_printf(&r->mem, "/api/v1/registers/%s/records/%lld", r->rid,
		                         (long long)id);
		MHD_add_response_header(r->resp, "Location", loc);
	}
}

/* GET REG/persons/{id}/records → {person, items: [record…]} */
void api_service_list(struct req *r)
{
	json_t *out = NULL;
	int rc = service_record_list(&r->ctx, r->rid, r->id, &out);
	reply_core(r, rc, 200, out);
}

/* GET REG/organisations/{id}/records[?type=T] → {organisation, items: [record…]} */
void api_service_org_list(struct req *r)
{
	json_t *out = NULL;
	int rc = service_records_of_org(&r->ctx, r->rid, r->id, req_arg(r, "type"), &out);
	reply_core(r, rc, 200, out);
}

/* GET REG/records/{id}[?history=true] → the record */
void api_service_get(struct req *r)
{
	json_t *out = NULL;
	const char *h = req_arg(r, "history");
	if (h && strcmp(h, "true") != 0 && strcmp(h, "false") != 0) {
		kerr_set(&r->err, KERR_INVALID, "history", "history: true or false");
		reply_problem(r);
		return;
	}
	int rc = service_record_get(&r->ctx, r->rid, r->id, h && strcmp(h, "true") == 0, &out);
	reply_core(r, rc, 200, out);
}

/* GET REG/records/{id}.ics → an appointment as an iCalendar file (another type: 422) */
void api_service_ics(struct req *r)
{
	struct buf b = BUF_INIT;
	if (service_record_ics(&r->ctx, r->rid, r->id, &b) != 0) {
		buf_free(&b);
		reply_problem(r);
		return;
	}
	reply_buf(r, 200, "text/calendar; charset=utf-8", &b);
}

/* GET REG/persons/{id}/appointments.ics → all the person's appointments as one file */
void api_appts_ics(struct req *r)
{
	struct buf b = BUF_INIT;
	if (service_person_ics(&r->ctx, r->rid, r->id, &b) != 0) {
		buf_free(&b);
		reply_problem(r);
		return;
	}
	reply_buf(r, 200, "text/calendar; charset=utf-8", &b);
}

/* PATCH REG/records/{id} {data: {member: value | null}} → the record as changed */
void api_service_update(struct req *r)
{
	json_t *in = req_json_or_reply(r), *out = NULL;
	if (!in)
		return;
	int rc = service_record_change(&r->ctx, r->rid, r->id, in);
	json_decref(in);
	if (rc == 0)
		rc = service_record_get(&r->ctx, r->rid, r->id, false, &out);
	reply_core(r, rc, 200, out);
}

/* DELETE REG/records/{id} → 204 */
void api_service_delete(struct req *r)
{
	if (service_record_delete(&r->ctx, r->rid, r->id))
		reply_problem(r);
	else
		reply_text(r, 204, NULL, "", 0);
}

/* GET REG/stats/services[?from=YYYY-MM&to=YYYY-MM] → counts without personal data */
void api_service_stats(struct req *r)
{
	json_t *out = NULL;
	int rc = service_stats(&r->ctx, r->rid, req_arg(r, "from"), req_arg(r, "to"), &out);
	reply_core(r, rc, 200, out);
}
