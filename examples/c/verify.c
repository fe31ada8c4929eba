/* tokenward from C: the check a host with its own key table runs.
 *
 * Parses a token (the one given, or a new one), builds the record the host would have stored
 * for it from JSON, and runs tw_verify_record on the token and on a forged copy, printing
 * Coder's answer for each. Build it with examples/c/Makefile (pkg-config).
 *
 *   ./verify [TOKEN]
 */
#include <stdio.h>
#include <string.h>

#include <tokenward.h>

/* 2026-03-01T13:00:00Z, one hour into the key's life, in microseconds. */
#define NOW_MICROS 1772370000000000LL

static int fail(const char *what, tw_status status) {
    tw_str detail = {0};
    tw_last_error_detail(&detail);
    fprintf(stderr, "%s: %s: %s\n", what, tw_status_name(status), detail.ptr ? detail.ptr : "");
    tw_str_free(detail);
    return 1;
}

/* Verifies `token` against `key` into `verdict` (one per thread, reused from call to call)
 * and prints the answer a host sends. */
static int verify(const char *label, const char *token, const tw_key *key, tw_verdict *verdict) {
    tw_status status = tw_verify_record(token, strlen(token), key, NULL, NOW_MICROS,
                                        "203.0.113.7", strlen("203.0.113.7"), verdict);
    /* A token that does not authenticate still fills the verdict; bad input does not. */
    if (status != TW_OK && (status < 1000 || status >= 2000))
        return fail("tw_verify_record", status);
    uint16_t http = 0;
    tw_verdict_http_status(verdict, &http);
    printf("%s: %s, HTTP %u\n", label, tw_status_name(status), (unsigned)http);
    if (status != TW_OK) {
        tw_str message = {0}, detail = {0};
        tw_verdict_message(verdict, &message);
        tw_verdict_detail(verdict, &detail);
        printf("  message: %s\n  detail: %s\n", message.ptr, detail.ptr);
        tw_str_free(message);
        tw_str_free(detail);
    }
    return 0;
}

int main(int argc, char **argv) {
    tw_str generated = {0};
    const char *token = argc > 1 ? argv[1] : NULL;
    tw_status status;
    if (token == NULL) {
        if ((status = tw_generate(&generated)) != TW_OK) return fail("tw_generate", status);
        token = generated.ptr;
    }

    tw_str id = {0}, secret = {0};
    status = tw_parse(token, strlen(token), &id, &secret);
    if (status != TW_OK) {
        tw_str_free(generated);
        return fail("tw_parse", status);
    }
    uint8_t hash[TW_HASH_LENGTH];
    status = tw_hash_secret(secret.ptr, secret.len, hash, sizeof hash);
    tw_str_free(secret);
    if (status != TW_OK) {
        tw_str_free(id);
        tw_str_free(generated);
        return fail("tw_hash_secret", status);
    }
    char hex[2 * TW_HASH_LENGTH + 1];
    for (size_t i = 0; i < TW_HASH_LENGTH; i++) snprintf(hex + 2 * i, 3, "%02x", hash[i]);

    /* The record, as the host's table holds it (codersdk's APIKey with its hash). */
    char json[1024];
    int n = snprintf(json, sizeof json,
                     "{\"id\":\"%s\",\"hashed_secret\":\"%s\",\"user_id\":\"jane\","
                     "\"last_used\":\"2026-03-01T12:00:00Z\","
                     "\"expires_at\":\"2026-03-02T12:00:00Z\","
                     "\"created_at\":\"2026-03-01T12:00:00Z\","
                     "\"updated_at\":\"2026-03-01T12:00:00Z\",\"login_type\":\"token\","
                     "\"lifetime_seconds\":86400,\"ip_address\":\"203.0.113.7\","
                     "\"token_name\":\"example\",\"scopes\":[\"coder:all\"],"
                     "\"allow_list\":[{\"type\":\"*\",\"id\":\"*\"}]}",
                     id.ptr, hex);
    tw_str_free(id);
    tw_key *key = NULL;
    status = n > 0 && (size_t)n < sizeof json ? tw_key_from_json(json, (size_t)n, &key)
                                              : TW_INVALID_ARGUMENT;
    if (status != TW_OK) {
        tw_str_free(generated);
        return fail("tw_key_from_json", status);
    }

    tw_verdict *verdict = NULL;
    if ((status = tw_verdict_new(&verdict)) != TW_OK) {
        tw_key_free(key);
        tw_str_free(generated);
        return fail("tw_verdict_new", status);
    }
    int rc = verify("the token", token, key, verdict);
    /* The same id with another secret. */
    char forged[TW_TOKEN_LENGTH + 1];
    snprintf(forged, sizeof forged, "%.11s%s", token, "AAAAAAAAAAAAAAAAAAAAAA");
    rc |= verify("a forged token", forged, key, verdict);

    tw_verdict_free(verdict);
    tw_key_free(key);
    tw_str_free(generated);
    return rc;
}
