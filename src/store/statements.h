/*
 * Ids of every SQL statement kortisto runs. The text of each is in statements.c; core/ names
 * a statement by id and binds its parameters, so no SQL is ever assembled from values.
 */
#ifndef KORTISTO_STATEMENTS_H
#define KORTISTO_STATEMENTS_H

enum stmt_id {
	/* transaction control, prepared once like every other statement */
	ST_TX_BEGIN,
	ST_TX_BEGIN_IMMEDIATE,
	ST_TX_COMMIT,
	ST_TX_ROLLBACK,
	ST_TX_SAVEPOINT,
	ST_TX_RELEASE,
	ST_TX_ROLLBACK_TO,
	/* registers and declaration versions */
	ST_REG_GET,
	ST_REG_INSERT,
	ST_REG_SET_VERSION,
	ST_REG_VERSION_INSERT,
	ST_REG_VERSION_LAST,
	ST_REG_LIST,
	ST_REG_VERSIONS,
	ST_REG_VERSION_GET,
	ST_REG_SIGNATURE,
	/* persons */
	ST_PERSON_INSERT,
	ST_PERSON_GET,
	ST_PERSON_UPDATE,
	ST_PERSON_DELETE,
	ST_PERSON_BY_HETU,
	ST_PERSON_LIST,
	ST_PERSON_SUMMARY,
	ST_PERSON_SEARCH,
	ST_PERSON_SEARCH_INSERT,
	ST_PERSON_SEARCH_DELETE,
	/* contact points */
	ST_CP_LIST,
	ST_CP_INSERT,
	ST_CP_UPDATE,
	ST_CP_DELETE,
	ST_CP_FIND,
	/* organisations */
	ST_ORG_INSERT,
	ST_ORG_GET,
	ST_ORG_UPDATE,
	ST_ORG_DELETE,
	ST_ORG_LIST,
	ST_ORG_SEARCH,
	ST_ORG_SEARCH_INSERT,
	ST_ORG_SEARCH_DELETE,
	ST_ORG_BY_YTUNNUS,
	ST_ORG_BY_NAME,
	ST_ORG_DUPLICATE,
	/* affiliations */
	ST_AFF_INSERT,
	ST_AFF_GET,
	ST_AFF_UPDATE,
	ST_AFF_DELETE,
	ST_AFF_LIST,
	ST_AFF_BY_PERSON,
	ST_AFF_FIND,
	/* change history */
	ST_HISTORY_INSERT,
	ST_HISTORY_LIST,
	ST_HISTORY_DELETE,
	ST_HISTORY_DELETE_AFFILIATIONS,
	/* maintenance */
	ST_MAINT_MARK,
	ST_MAINT_PENDING,
	ST_MAINT_DONE,
	ST_PERSON_SEARCH_OPTIMIZE,
	ST_ORG_SEARCH_OPTIMIZE,
/* accounts, sessions, tokens, grants, commitments, sign-in throttling */
#include "store/stmt_account_ids.inc"
/* usage log, hash chain, checkpoints, disclosures */
#include "store/stmt_audit_ids.inc"
/* data-subject requests, marketing bans */
#include "store/stmt_request_ids.inc"
/* the data subject's access and portability export */
#include "store/stmt_export_ids.inc"
/* feedback surveys, answers, raffles */
#include "store/stmt_survey_ids.inc"
/* person records, legal holds, retention runs */
#include "store/stmt_retention_ids.inc"
/* consents, subscription lists, mailings, opens */
#include "store/stmt_marketing_ids.inc"
/* events, sessions, registrations, attendance, meetings */
#include "store/stmt_event_ids.inc"
/* self-service links and sessions of data subjects */
#include "store/stmt_selfservice_ids.inc"
/* the public company directory */
#include "store/stmt_directory_ids.inc"
/* advisory and customer-service records, service statistics */
#include "store/stmt_service_ids.inc"
	ST__MAX
};

/* The SQL text of statement `id`. */
const char *stmt_sql(enum stmt_id id);

#endif
