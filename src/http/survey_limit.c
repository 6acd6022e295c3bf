/*
 * The rate limit of the public survey routes: at most SURVEY_LIMIT_MAX stored answers and
 * raffle entries per client address in SURVEY_LIMIT_WINDOW seconds. The design decision: the
 * limiter lives in process memory only and never sees the address itself, only a keyed
 * BLAKE2b hash of it under a key drawn at start and never written anywhere, so nothing that
 * could be paired with an answer or an entry (F-01, F-02) is ever stored, and a restart
 * forgets everything. It is the one piece of mutable state of the HTTP layer besides the
 * server itself, guarded by a mutex; a full table forgets its oldest slot.
 */
#include "http/survey_limit.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>

#define SLOTS     4096
#define HASH_SIZE 16

struct slot {
	unsigned char h[HASH_SIZE];
	int64_t start; /* beginning of the slot's window; 0 = free */
	int count;
};

static struct {
	pthread_once_t once;
	pthread_mutex_t lock;
	unsigned char key[crypto_generichash_KEYBYTES];
	struct slot slots[SLOTS];
} lim = {.once = PTHREAD_ONCE_INIT, .lock = PTHREAD_MUTEX_INITIALIZER};

static void limit_start(void)
{
	randombytes_buf(lim.key, sizeof(lim.key));
}

/* The slot of `addr` (hashed), a free or expired one, or the oldest; under the lock. */
static struct slot *find(const char *addr, int64_t now)
{
	unsigned char h[HASH_SIZE];
	crypto_generichash(h, sizeof(h), (const unsigned char *)addr, strlen(addr), lim.key,
	                   sizeof(lim.key));
	size_t first = ((size_t)h[0] << 8 | h[1]) % SLOTS;
	struct slot *victim = NULL;
	int64_t victim_age = 0;
	/* Open addressing over a short run of slots: the address's own slot, else a free or
	 * expired one, else the oldest. */
	for (size_t i = 0; i < 16; i++) {
		struct slot *s = &lim.slots[(first + i) % SLOTS];
		if (s->start && memcmp(s->h, h, HASH_SIZE) == 0) {
			sodium_memzero(h, sizeof(h));
			return s;
		}
		int64_t age =
		        !s->start || now - s->start >= SURVEY_LIMIT_WINDOW ? INT64_MIN : s->start;
		if (!victim || age < victim_age) {
			victim = s;
			victim_age = age;
		}
	}
	memcpy(victim->h, h, HASH_SIZE);
	victim->start = now;
	victim->count = 0;
	sodium_memzero(h, sizeof(h));
	return victim;
}

int64_t survey_limit_check(const char *addr, int64_t now)
{
	int64_t wait = 0;
	if (!addr)
		return 0;
	pthread_once(&lim.once, limit_start);
	pthread_mutex_lock(&lim.lock);
	struct slot *s = find(addr, now);
	if (now - s->start >= SURVEY_LIMIT_WINDOW) {
		s->start = now;
		s->count = 0;
	}
	if (s->count >= SURVEY_LIMIT_MAX)
		wait = s->start + SURVEY_LIMIT_WINDOW - now;
	pthread_mutex_unlock(&lim.lock);
	return wait > 0 ? wait : 0;
}

void survey_limit_count(const char *addr, int64_t now)
{
	if (!addr)
		return;
	pthread_once(&lim.once, limit_start);
	pthread_mutex_lock(&lim.lock);
	struct slot *s = find(addr, now);
	if (now - s->start >= SURVEY_LIMIT_WINDOW) {
		s->start = now;
		s->count = 0;
	}
	s->count++;
	pthread_mutex_unlock(&lim.lock);
}
