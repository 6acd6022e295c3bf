/*
 * The suppression list of erasure by passivation: when a register's declaration says
 * erasure passivates, an erased subject leaves only keyed hashes of their normalised
 * identifiers, so that the person is not collected again from public sources. Creates
 * through the API and imports that match are refused or skipped; nothing else ever reads
 * the list, and a hash cannot be turned back into the identifier without the data
 * directory's key.
 */
#ifndef KORTISTO_SUPPRESS_H
#define KORTISTO_SUPPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kctx;

/* The identifiers of one person as given (they are normalised here); any may be NULL. */
struct suppress_ids {
	const char *email, *phone;
	const char *first_name, *last_name;
	const char *const *orgs; /* organisation names, for the name-with-organisation key */
	size_t norgs;
};

/*
 * Adds the identifiers of person `pid` of register `rid` — e-mail and phone contact points,
 * and the name with each organisation the person is affiliated with — to the list, inside
 * the caller's write transaction, before the person is deleted. `source` (e.g.
 * "request:12") says why. Returns 0 or KERR_*.
 */
int suppress_person(struct kctx *ctx, const char *rid, int64_t pid, const char *source);

/* Sets *hit when any identifier of `ids` is on the list of `rid`, and *kind (may be NULL) to
 * the kind that matched ("email", "phone", "name"). Returns 0 or KERR_*. */
int suppress_match(struct kctx *ctx, const char *rid, const struct suppress_ids *ids, bool *hit,
                   const char **kind);

#endif
