/*
 * The standard texts of a privacy notice in Finnish, Swedish and English: headings, the
 * rights of the data subject with their GDPR articles, and the words kortisto derives
 * sentences from. Register-specific wording comes from the declaration; these texts are the
 * same for every register, so they are kortisto's to translate.
 */
#ifndef KORTISTO_NOTICE_TEXT_H
#define KORTISTO_NOTICE_TEXT_H

#include "decl/decl.h"

enum nmsg {
	/* title block */
	NM_TITLE,
	NM_LAW,
	NM_PUBLISHED,
	NM_UPDATED,
	NM_VERSION,
	NM_IN_FORCE_FROM,
	NM_CONTENTS,
	NM_LANGUAGE,
	NM_IN_FINNISH,
	NM_FALLBACK_NOTE,
	/* contact labels */
	NM_UNIT,
	NM_YTUNNUS,
	NM_ADDRESS,
	NM_PHONE,
	NM_EMAIL,
	NM_WEB,
	/* sections, in the order of Finnish practice */
	NM_H_CONTROLLER,
	NM_H_PERSONS,
	NM_H_DPO,
	NM_H_PURPOSES,
	NM_H_GROUPS,
	NM_H_CATEGORIES,
	NM_H_SOURCES,
	NM_H_RECIPIENTS,
	NM_H_TRANSFERS,
	NM_H_RETENTION,
	NM_H_SECURITY,
	NM_H_AUTOMATED,
	NM_H_RIGHTS,
	NM_H_COMPLAINT,
	NM_H_NOTES,
	/* persons */
	NM_RESPONSIBLE,
	NM_CONTACT,
	NM_NO_CONTACTS,
	/* purposes and bases */
	NM_PURPOSES_INTRO,
	NM_BASES_INTRO,
	NM_BASIS_A,
	NM_BASIS_B,
	NM_BASIS_C,
	NM_BASIS_D,
	NM_BASIS_E,
	NM_BASIS_F,
	NM_BASIS_LABEL,
	NM_PURPOSES_LABEL,
	NM_INTEREST,
	NM_BASIS_AS_PUBLISHED,
	NM_PROVISION,
	NM_DIRECT_MARKETING_PURPOSE,
	/* groups and categories */
	NM_CONCERNS_GROUPS,
	NM_ALL_GROUPS,
	NM_RECORDS_INTRO,
	/* sources */
	NM_SK_SUBJECT,
	NM_SK_PUBLIC,
	NM_SK_THIRD_PARTY,
	NM_SK_AUTHORITY,
	NM_SK_GENERATED,
	/* recipients */
	NM_RK_RECIPIENT,
	NM_RK_PROCESSOR,
	NM_RK_JOINT_CONTROLLER,
	NM_RK_INTERNAL_SYSTEM,
	NM_NO_RECIPIENTS,
	NM_DATA_DISCLOSED,
	NM_ALL_CATEGORIES,
	NM_ON_REQUEST_ONLY,
	NM_LEGAL_REFERENCES,
	NM_FORBIDDEN_INTRO,
	NM_FP_DIRECT_MARKETING,
	NM_FP_TELEMARKETING,
	NM_FP_ADDRESS_SERVICE,
	NM_FP_MARKET_RESEARCH,
	/* transfers */
	NM_NO_TRANSFERS,
	NM_TRANSFERS_INTRO,
	NM_SAFEGUARD,
	/* retention */
	NM_RET_DELETE,
	NM_RET_ANONYMIZE,
	NM_RET_PASSIVATE,
	NM_RET_ARCHIVE,
	NM_RET_KEEP,
	NM_RET_AFTER,       /* "%s kuluttua %s": duration, from */
	NM_FROM_LAST_EVENT, /* elative: "viimeisestä asiakastapahtumasta" */
	NM_FROM_CREATED,
	NM_FROM_AFFILIATION_END,
	NM_FROM_CONSENT_WITHDRAWN,
	NM_FROM_FIELD,     /* "%s": field label */
	NM_NOW_LAST_EVENT, /* when the period is zero */
	NM_NOW_CREATED,
	NM_NOW_AFFILIATION_END,
	NM_NOW_CONSENT_WITHDRAWN,
	NM_NOW_FIELD,
	NM_UNTIL_REQUEST,
	NM_RET_GROUPS,
	NM_RET_RECORDS,
	NM_RET_EXCEPT,
	NM_RET_ONLY,
	NM_RETENTION_PLAN,
	/* durations: genitive in Finnish ("10 vuoden"), plain in Swedish and English */
	NM_YEAR_1,
	NM_YEARS,
	NM_MONTH_1,
	NM_MONTHS,
	NM_DAY_1,
	NM_DAYS,
	NM_AND,
	/* security */
	NM_SYSTEMS_INTRO,
	NM_MANUAL,
	NM_ELECTRONIC,
	NM_MEASURES,
	NM_BY_CONSTRUCTION,
	/* automated decisions */
	NM_NO_ADM,
	NM_ADM_USED,
	NM_NO_PROFILING,
	NM_PROFILING_USED,
	/* rights */
	NM_R_ACCESS,
	NM_R_ACCESS_TEXT,
	NM_R_RECTIFY,
	NM_R_RECTIFY_TEXT,
	NM_R_ERASE,
	NM_R_ERASE_TEXT,
	NM_R_ERASE_EXCEPTION,
	NM_R_ERASE_NONE,
	NM_R_PASSIVATE_TEXT,
	NM_R_RESTRICT,
	NM_R_RESTRICT_TEXT,
	NM_R_PORTABILITY,
	NM_R_PORTABILITY_TEXT,
	NM_R_OBJECT,
	NM_R_OBJECT_TEXT,
	NM_R_OBJECT_DM,
	NM_R_WITHDRAW,
	NM_R_WITHDRAW_TEXT,
	NM_R_ADM,
	NM_R_ADM_TEXT,
	NM_R_HOW,
	NM_R_CHANNEL,
	NM_R_IDENTITY,
	NM_R_DEADLINE, /* "%s": duration */
	NM_R_FREE,
	NM_R_REFUSAL,
	NM_R_FURTHER,
	NM_R_CONTROLLER_CONTACT,
	/* complaint */
	NM_COMPLAINT_TEXT,
	/* changes between versions */
	NM_VERSIONS,
	NM_CHANGES, /* "%d": the older version */
	NM_ADDED,
	NM_REMOVED,
	NM_NO_CHANGES,
	/* record of processing */
	NM_ROP_TITLE,
	NM_ROP_LAW,
	NM_ROP_CONTROLLER,
	NM_ROP_PURPOSES,
	NM_ROP_GROUPS,
	NM_ROP_CATEGORIES,
	NM_ROP_RECIPIENTS,
	NM_ROP_TRANSFERS,
	NM_ROP_RETENTION,
	NM_ROP_SECURITY,
	NM_ROP_REGISTER,
	NM_ROP_NOTICE,
	/* the data subject's copy of their data (access letter, core/export.c) */
	NM_X_KIND,
	NM_X_LAW,
	NM_X_PORTABLE_LAW,
	NM_X_REGISTER,
	NM_X_REGISTERS_OTHER,
	NM_X_GENERATED,
	NM_X_INTRO,
	NM_X_H_DATA,
	NM_X_H_CONTACTS,
	NM_X_H_AFFILIATIONS,
	NM_X_H_HISTORY,
	NM_X_H_DISCLOSURES,
	NM_X_H_USAGE,
	NM_X_USAGE_INTRO,
	NM_X_H_PROCESSING,
	NM_X_PROCESSING_INTRO,
	NM_X_NONE,
	NM_X_FIELD,
	NM_X_VALUE,
	NM_X_SOURCE,
	NM_X_COLLECTED,
	NM_X_TIME,
	NM_X_OLD,
	NM_X_NEW,
	NM_X_ACTOR,
	NM_X_REASON,
	NM_X_ACTION,
	NM_X_PURPOSE,
	NM_X_RECIPIENT,
	NM_X_CATEGORIES,
	NM_X_ORGANISATION,
	NM_X_POSITION,
	NM_X_START,
	NM_X_END,
	NM_X_GROUP,
	NM_X_STATUS,
	NM_X_CREATED,
	NM_X_LAST_EVENT,
	NM_X_ID,
	NM_X_ST_ACTIVE,
	NM_X_ST_RESTRICTED,
	NM_X_ST_PASSIVATED,
	NM_X_A_READ,
	NM_X_A_REVEAL,
	NM_X_A_SEARCH,
	NM_X_A_CREATE,
	NM_X_A_UPDATE,
	NM_X_A_DELETE,
	NM_X_A_DISCLOSE,
	NM_X_A_EXPORT,
	NM_X_P_REQUEST,
	NM_X_H_CONSENTS,
	NM_X_H_SUBSCRIPTIONS,
	NM_X_H_BANS,
	NM_X_H_RECORDS,
	NM_X_H_REQUESTS,
	NM_X_H_MAILINGS,
	NM_X_H_REGISTRATIONS,
	NM_X_H_ATTENDANCE,
	NM_X_H_MEETINGS,
	NM_X_CHANNEL,
	NM_X_TEXT,
	NM_X_GIVEN,
	NM_X_WITHDRAWN,
	NM_X_LIST,
	NM_X_TYPE,
	NM_X_DAY,
	NM_X_CONTENT,
	NM_X_RECEIVED,
	NM_X_DUE,
	NM_X_VERIFIED,
	NM_X_STEPS,
	NM_X_SUBJECT,
	NM_X_SENT,
	NM_X_OPENS,
	NM_X_EVENT,
	NM_X_PLACE,
	NM_X_CHOICES,
	NM_X_SESSION,
	NM_X_H_CHAT,
	NM_X_MESSAGE,
	/* the company directory (F-05) */
	NM_DIRECTORY_CONTACTS,
	NM_X_H_DIRECTORY,
	NM_X_SINCE,
	/* the controller's other registers in the access letter */
	NM_X_OTHER_INTRO,
	NM_X_OTHER_SEPARATE,
	NM__MAX
};

/* The text of `m` in `lang`; never NULL (every message exists in every language). */
const char *nmsg(enum nmsg m, enum lang lang);

/* Language from its code ("fi", "sv", "en"); returns -1 for any other. */
int lang_from_code(const char *code);

/*
 * The language to answer in: `asked` (a ?lang= value) when it is fi, sv or en, else the one
 * of those the Accept-Language header `accept` (may be NULL) prefers most (RFC 9110 §12.5.4:
 * quality values, primary subtags such as "sv-FI"), else Finnish.
 */
enum lang lang_negotiate(const char *asked, const char *accept);

/*
 * Writes date `iso` (YYYY-MM-DD, or the date part of an ISO 8601 time) the way `lang` writes
 * it into `out`: 2.9.2021 in Finnish and Swedish, 2 September 2021 in English. Returns `out`,
 * or `iso` itself when it is not a date.
 */
const char *lang_date(enum lang lang, const char *iso, char out[32]);

/* Code of a language ("fi", …). */
const char *lang_code(enum lang lang);

#endif
