/*
 * Field encryption, keyed hashes and signatures (libsodium). One 32-byte master key lives in
 * the data directory's key file (mode 0600); the encryption key, the lookup-hash key, the
 * usage-log chain key and the Ed25519 signing key are derived from it, so a leaked hash never
 * helps decrypt and the key file is the only secret to keep.
 */
#ifndef KORTISTO_CRYPTO_H
#define KORTISTO_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

struct kerr;

#define SIGN_PUBLIC_BYTES 32u
#define SIGN_BYTES        64u

struct keys {
	unsigned char enc[32];     /* XChaCha20-Poly1305 key */
	unsigned char mac[32];     /* keyed BLAKE2b key for exact-match lookups */
	unsigned char audit[32];   /* keyed BLAKE2b key of the usage log's hash chain */
	unsigned char sign_sk[64]; /* Ed25519 secret key: usage-log anchors and checkpoints */
	unsigned char sign_pk[SIGN_PUBLIC_BYTES]; /* its public key, for the records office */
};

/* Overhead of a sealed field: 24-byte nonce + 16-byte tag. */
#define FIELD_SEAL_OVERHEAD 40u
#define FIELD_HASH_BYTES    32u

/* Initialises libsodium; call once at start. Returns 0 or -1. */
int crypto_start(void);

/* Creates a new key file at `path` (mode 0600, must not exist). Returns 0 or KERR_*. */
int keys_create(const char *path, struct kerr *err);

/* Loads and derives the keys from the key file; refuses a file readable by others. */
int keys_load(const char *path, struct keys *k, struct kerr *err);

/* Wipes the keys from memory. */
void keys_wipe(struct keys *k);

/* Encrypts n bytes into out (n + FIELD_SEAL_OVERHEAD bytes) with a random nonce. */
void field_seal(const struct keys *k, const char *plain, size_t n, unsigned char *out);

/* Decrypts a sealed field into out (n - FIELD_SEAL_OVERHEAD + 1 bytes, NUL terminated).
 * Returns 0, or -1 when the data was altered or the key is wrong. */
int field_open(const struct keys *k, const unsigned char *sealed, size_t n, char *out);

/* Keyed hash of a normalised value for exact-match lookup. */
void field_hash(const struct keys *k, const char *s, size_t n, unsigned char out[FIELD_HASH_BYTES]);

/* Ed25519 signature of n bytes at msg with the data directory's signing key. */
void keys_sign(const struct keys *k, const void *msg, size_t n, unsigned char sig[SIGN_BYTES]);

/* Whether `sig` is a valid signature of msg under public key `pk`. */
bool sign_verify(const unsigned char pk[SIGN_PUBLIC_BYTES], const void *msg, size_t n,
                 const unsigned char sig[SIGN_BYTES]);

/* SHA-256 of data as 64 lower-case hex digits + NUL. */
void sha256_hex(const void *data, size_t n, char out[65]);

#endif
