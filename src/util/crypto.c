/*
 * libsodium wrappers for field encryption, lookup hashes and signatures. The master key is
 * stored as 64 hex digits so an operator can back it up by copying a text file; subkeys are
 * derived with crypto_kdf under the context "kortisto" (1 field encryption, 2 lookup hashes,
 * 3 the usage-log chain, 4 the seed of the Ed25519 signing key pair).
 */
#include "util/crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/kerr.h"

_Static_assert(sizeof(((struct keys *)0)->sign_sk) == crypto_sign_SECRETKEYBYTES, "sign_sk");
_Static_assert(SIGN_PUBLIC_BYTES == crypto_sign_PUBLICKEYBYTES, "sign_pk");
_Static_assert(SIGN_BYTES == crypto_sign_BYTES, "signature");

int crypto_start(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

int keys_create(const char *path, struct kerr *err)
{
	unsigned char master[crypto_kdf_KEYBYTES];
	char hex[crypto_kdf_KEYBYTES * 2 + 2];
	int rc = 0;

	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return kerr_set(err, KERR_INTERNAL, NULL, "cannot create key file %s: %s", path,
		                strerror(errno));
	crypto_kdf_keygen(master);
	sodium_bin2hex(hex, sizeof(hex), master, sizeof(master));
	size_t len = strlen(hex);
	hex[len++] = '\n';
	if (write(fd, hex, len) != (ssize_t)len || fsync(fd) != 0)
		rc = kerr_set(err, KERR_INTERNAL, NULL, "cannot write key file %s: %s", path,
		              strerror(errno));
	close(fd);
	sodium_memzero(master, sizeof(master));
	sodium_memzero(hex, sizeof(hex));
	return rc;
}

int keys_load(const char *path, struct keys *k, struct kerr *err)
{
	unsigned char master[crypto_kdf_KEYBYTES];
	unsigned char seed[crypto_sign_SEEDBYTES];
	char hex[crypto_kdf_KEYBYTES * 2 + 8];
	struct stat st;
	int rc = 0;

	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return kerr_set(err, KERR_INTERNAL, NULL, "cannot open key file %s: %s", path,
		                strerror(errno));
	if (fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
		close(fd);
		return kerr_set(err, KERR_INTERNAL, NULL,
		                "key file %s must not be readable by group or others (chmod 600)",
		                path);
	}
	ssize_t n = read(fd, hex, sizeof(hex) - 1);
	close(fd);
	size_t bin_len = 0;
	if (n < (ssize_t)(crypto_kdf_KEYBYTES * 2) ||
	    sodium_hex2bin(master, sizeof(master), hex, (size_t)n, "\n", &bin_len, NULL) != 0 ||
	    bin_len != sizeof(master)) {
		rc = kerr_set(err, KERR_INTERNAL, NULL, "key file %s is damaged", path);
		goto out;
	}
	crypto_kdf_derive_from_key(k->enc, sizeof(k->enc), 1, "kortisto", master);
	crypto_kdf_derive_from_key(k->mac, sizeof(k->mac), 2, "kortisto", master);
	crypto_kdf_derive_from_key(k->audit, sizeof(k->audit), 3, "kortisto", master);
	crypto_kdf_derive_from_key(seed, sizeof(seed), 4, "kortisto", master);
	crypto_sign_seed_keypair(k->sign_pk, k->sign_sk, seed);
out:
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(master, sizeof(master));
	sodium_memzero(hex, sizeof(hex));
	return rc;
}

void keys_wipe(struct keys *k)
{
	sodium_memzero(k, sizeof(*k));
}

void field_seal(const struct keys *k, const char *plain, size_t n, unsigned char *out)
{
	unsigned char *nonce = out;
	randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(
	        out + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, NULL,
	        (const unsigned char *)plain, n, NULL, 0, NULL, nonce, k->enc);
}

int field_open(const struct keys *k, const unsigned char *sealed, size_t n, char *out)
{
	if (n < FIELD_SEAL_OVERHEAD)
		return -1;
	unsigned long long len = 0;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
	            (unsigned char *)out, &len, NULL,
	            sealed + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
	            n - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, NULL, 0, sealed, k->enc) != 0)
		return -1;
	out[len] = '\0';
	return 0;
}

void field_hash(const struct keys *k, const char *s, size_t n, unsigned char out[FIELD_HASH_BYTES])
{
	crypto_generichash(out, FIELD_HASH_BYTES, (const unsigned char *)s, n, k->mac,
	                   sizeof(k->mac));
}

void keys_sign(const struct keys *k, const void *msg, size_t n, unsigned char sig[SIGN_BYTES])
{
	crypto_sign_detached(sig, NULL, msg, n, k->sign_sk);
}

bool sign_verify(const unsigned char pk[SIGN_PUBLIC_BYTES], const void *msg, size_t n,
                 const unsigned char sig[SIGN_BYTES])
{
	return crypto_sign_verify_detached(sig, msg, n, pk) == 0;
}

void sha256_hex(const void *data, size_t n, char out[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, data, n);
	sodium_bin2hex(out, 65, h, sizeof(h));
}
