/*
 * Register declarations: the in-memory model of one YAML file in registers/.
 *
 * A declaration is parsed once (decl_parse) into one heap block owned by the returned
 * struct decl; every string and array below points into that block and lives until
 * decl_free(). Nothing here is mutable after parsing, so one declaration may be shared by
 * every worker thread. The format is documented in docs/declarations.md and
 * registers/TEMPLATE.yaml.
 */
#ifndef KORTISTO_DECL_H
#define KORTISTO_DECL_H

#include <stdbool.h>
#include <stddef.h>

/* Languages a text may carry. Finnish is required on every text. */
enum lang { LANG_FI, LANG_SV, LANG_EN, LANG__MAX };

/* A text in up to three languages; NULL where the declaration has none. */
struct text {
	const char *s[LANG__MAX];
};

struct text_list {
	const struct text *v;
	size_t n;
};

struct str_list {
	const char *const *v;
	size_t n;
};

enum field_type {
	FT_TEXT,
	FT_EMAIL,
	FT_PHONE,
	FT_HETU,
	FT_YTUNNUS,
	FT_DATE,
	FT_IP,
	FT_URL,
	FT_ENUM,
	FT_INT,
	FT_BOOL,
	FT_NOTE,
	FT__MAX
};

/* GDPR Art. 6(1) points a–f. */
enum basis { BASIS_A, BASIS_B, BASIS_C, BASIS_D, BASIS_E, BASIS_F, BASIS__MAX };

enum group_kind { GK_NATURAL_PERSON, GK_ORGANISATION_CONTACT, GK__MAX };

enum source_kind { SK_SUBJECT, SK_PUBLIC, SK_THIRD_PARTY, SK_AUTHORITY, SK_GENERATED, SK__MAX };

enum recipient_kind {
	RK_RECIPIENT,
	RK_PROCESSOR,
	RK_JOINT_CONTROLLER,
	RK_INTERNAL_SYSTEM,
	RK__MAX
};

enum ret_from {
	RF_LAST_CUSTOMER_EVENT,
	RF_CREATED,
	RF_AFFILIATION_END,
	RF_CONSENT_WITHDRAWN,
	RF_UNTIL_REQUEST,
	RF_FIELD,
	RF__MAX
};

enum ret_action { RA_DELETE, RA_ANONYMIZE, RA_PASSIVATE, RA_ARCHIVE_THEN_DELETE, RA_NONE, RA__MAX };

/* An ISO 8601 duration restricted to calendar parts: PnYnMnD (weeks become 7 days). */
struct duration {
	int years, months, days;
};

struct decl_person {
	const char *name;
	struct text title;
	const char *email, *phone, *address;
	struct text note;
};

struct decl_purpose {
	const char *id;
	struct text text;
	bool direct_marketing;
};

struct decl_group {
	const char *id;
	struct text name;
	enum group_kind kind;
	enum basis basis;
	struct text basis_text;
	struct text interest;
	struct str_list purposes; /* purpose ids */
};

struct decl_field {
	const char *id;
	enum field_type type;
	struct text label;
	bool required, sensitive, statistical;
	struct str_list values;               /* enum values; empty for other types */
	const char *source;                   /* source id or NULL */
	const struct decl_category *category; /* the category that declares it */
};

struct decl_category {
	const char *id;
	struct text name;
	struct str_list groups; /* empty: all groups */
	struct text description;
	const struct decl_field *fields;
	size_t nfields;
	struct text_list items;
};

struct decl_record_type {
	const char *id;
	struct text name;
	bool customer_event;
	const char *category; /* category id or NULL */
};

struct decl_source {
	const char *id;
	enum source_kind kind;
	struct text text;
};

/* The recipient id of the public company directory (core/directory.h). */
#define DECL_DIRECTORY_RECIPIENT "company_directory"

struct decl_recipient {
	const char *id;
	struct text name;
	enum recipient_kind kind;
	struct str_list purposes;
	bool has_basis;
	enum basis basis;
	struct str_list categories; /* empty: all */
	struct text text;
	/* Only on the recipient company_directory: the directory may show the name and title
	 * of the contact persons a company chose to publish (F-05). */
	bool contact_persons;
};

struct decl_transfer_dest {
	const char *country;
	const char *recipient;
	struct text safeguard;
};

struct decl_condition {
	const char *field;  /* field id */
	const char *equals; /* value as written in YAML ("true", "fi", "3") */
};

/* The rule id under which every retention run reports its sweep of consents that expired
 * unconfirmed (core/retention.c); a declaration may not use it. */
#define DECL_RULE_UNCONFIRMED "consent_unconfirmed"

struct decl_rule {
	const char *id;
	struct str_list groups;
	struct str_list record_types;
	bool has_after;
	struct duration after;
	enum ret_from from;
	const char *from_field; /* for RF_FIELD */
	enum ret_action action;
	const struct decl_condition *except;
	size_t nexcept;
	struct text text;
};

struct decl_system {
	struct text name;
	struct text text;
};

struct decl {
	const char *file; /* name used in diagnostics */
	const char *id;
	struct text name, description;
	const char *published; /* YYYY-MM-DD */
	const char *updated;   /* YYYY-MM-DD or NULL */

	struct {
		struct text name, unit;
		const char *ytunnus, *address, *phone, *email, *web;
	} controller;

	const struct decl_person *responsible;
	size_t nresponsible;
	const struct decl_person *contacts;
	size_t ncontacts;
	struct decl_person dpo;

	const struct decl_purpose *purposes;
	size_t npurposes;
	const struct decl_group *groups;
	size_t ngroups;
	struct text_list legal_basis_text;
	const struct decl_category *categories;
	size_t ncategories;
	const struct decl_record_type *record_types;
	size_t nrecord_types;
	const struct decl_source *sources;
	size_t nsources;
	const struct decl_recipient *recipients;
	size_t nrecipients;

	struct {
		struct text text;
		bool on_request_only;
		struct str_list legal_references;
		struct str_list forbidden_purposes;
	} disclosures;

	struct {
		bool outside_eea;
		struct text text;
		const struct decl_transfer_dest *destinations;
		size_t ndestinations;
	} transfers;

	struct {
		struct text text, plan;
		const struct decl_rule *rules;
		size_t nrules;
	} retention;

	const struct decl_system *systems;
	size_t nsystems;

	struct {
		struct text manual, electronic;
		struct text_list measures;
	} security;

	struct {
		bool used;
		struct text text;
	} automated_decision_making, profiling;

	struct text provision_requirement;

	struct {
		struct duration deadline;    /* default P1M */
		bool erasure_by_passivation; /* erasure keeps a suppression list */
		struct text channel, identity_check;
		struct text_list texts;
	} rights;

	struct {
		struct text name;
		const char *address, *phone, *email, *web;
	} complaint_authority;

	struct text_list notes;
};

/* One problem found in a declaration, located in its file. */
struct decl_diag {
	int line, column; /* 1-based; 0 when unknown */
	bool warning;     /* false: an error that makes the declaration unusable */
	char message[256];
};

struct decl_diags {
	struct decl_diag *v; /* heap array owned by the list; free with decl_diags_free() */
	size_t n, cap;
	size_t nerrors;
};

/*
 * Parses and validates a declaration from `text` (`len` bytes, need not be NUL terminated).
 * `file` names it in diagnostics. Every problem found is appended to `diags` (the parser does
 * not stop at the first). Returns 0 and sets *out to a new declaration (free with decl_free)
 * when there were no errors; returns -1 and sets *out to NULL otherwise. Never aborts on bad
 * input.
 */
int decl_parse(const char *file, const char *text, size_t len, struct decl **out,
               struct decl_diags *diags);

/* Frees a declaration; accepts NULL. */
void decl_free(struct decl *d);

/* Frees the array inside a diagnostics list and empties it; accepts NULL. */
void decl_diags_free(struct decl_diags *diags);

/* Lookups; each returns NULL when the id is not declared. */
const struct decl_field *decl_field(const struct decl *d, const char *id);
const struct decl_group *decl_group(const struct decl *d, const char *id);
const struct decl_source *decl_source(const struct decl *d, const char *id);
const struct decl_purpose *decl_purpose(const struct decl *d, const char *id);
const struct decl_category *decl_category(const struct decl *d, const char *id);
const struct decl_record_type *decl_record_type(const struct decl *d, const char *id);
const struct decl_recipient *decl_recipient(const struct decl *d, const char *id);

/* Whether category `c` applies to subject group `group_id` (an empty group list: all). */
bool decl_category_applies(const struct decl_category *c, const char *group_id);

/* Text in `lang`, falling back to Finnish; *fallback (may be NULL) tells whether it did. */
const char *decl_text(const struct text *t, enum lang lang, bool *fallback);

/* Names for enum values, as written in YAML ("text", "a", "anonymize", …). */
const char *decl_field_type_name(enum field_type t);
const char *decl_basis_name(enum basis b);
const char *decl_action_name(enum ret_action a);

#endif
