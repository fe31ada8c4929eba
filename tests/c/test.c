/* Tests of the C ABI (include/tokenward.h): every exported function, its bad input, and the
 * check vectors of tests/vectors/check.json (as tests/c/check_vectors.h). Run by
 * scripts/test.sh plain, under ASan/UBSan and under valgrind; see tests/c/Makefile. */

/* mkdtemp, for the SQLite store's file. */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tokenward.h"

struct check_case {
    const char *name;
    const char *presented;
    size_t presented_len;
    const char *record;
    size_t record_len;
    const char *settings;
    size_t settings_len;
    int64_t now;
    const char *remote_addr;
    size_t remote_addr_len;
    uint32_t code;
    const char *message;
    size_t message_len;
    const char *detail;
    size_t detail_len;
    const char *www_authenticate;
    size_t www_authenticate_len;
    bool update_present;
    int64_t last_used;
    int64_t expires_at;
    const char *ip;
    size_t ip_len;
};

#include "check_vectors.h"

static int failures = 0;
static int checks = 0;

#define CHECK(cond)                                                            \
    do {                                                                       \
        checks++;                                                              \
        if (!(cond)) {                                                         \
            failures++;                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                    \
        }                                                                      \
    } while (0)

#define CHECK_STATUS(call, want)                                               \
    do {                                                                       \
        tw_status got_ = (call);                                               \
        checks++;                                                              \
        if (got_ != (tw_status)(want)) {                                       \
            failures++;                                                        \
            fprintf(stderr, "%s:%d: %s: got %s (%u), want %s\n", __FILE__,    \
                    __LINE__, #call, tw_status_name(got_), (unsigned)got_,     \
                    tw_status_name(want));                                     \
        }                                                                      \
    } while (0)

/* The string literal `lit` as pointer and length. */
#define S(lit) (lit), (sizeof(lit) - 1)

static bool str_eq(tw_str s, const char *want, size_t want_len) {
    return s.ptr != NULL && s.len == want_len && memcmp(s.ptr, want, want_len) == 0 &&
           s.ptr[s.len] == '\0';
}

/* The last error detail equals `want`. */
static bool detail_is(const char *want) {
    tw_str d = {NULL, 0};
    if (tw_last_error_detail(&d) != TW_OK) return false;
    bool ok = str_eq(d, want, strlen(want));
    if (!ok) fprintf(stderr, "  last detail: %.*s\n", (int)d.len, d.ptr);
    tw_str_free(d);
    return ok;
}

/* A sentinel tw_str: functions must leave it alone when they fail. */
static const tw_str UNTOUCHED = {(char *)"untouched", 9};

static bool untouched(tw_str s) { return s.ptr == UNTOUCHED.ptr && s.len == UNTOUCHED.len; }

static void test_status_names(void) {
    CHECK(strcmp(tw_status_name(TW_OK), "ok") == 0);
    CHECK(strcmp(tw_status_name(TW_EXPIRED), "expired") == 0);
    CHECK(strcmp(tw_status_name(TW_NULL_ARGUMENT), "null_argument") == 0);
    CHECK(tw_status_http(TW_OK) == 200);
    CHECK(tw_status_http(TW_EXPIRED) == 401);
    CHECK(tw_status_http(TW_INVALID_SCOPE) == 400);
    CHECK(tw_status_http(TW_CONFLICT) == 409);
    CHECK(tw_status_http(TW_STORE_BUSY) == 500);
    CHECK(tw_status_http(7) == 500);
    CHECK(strcmp(tw_status_name(TW_INVALID_UTF8), "invalid_utf8") == 0);
    CHECK(strcmp(tw_status_name(TW_BUFFER_TOO_SMALL), "buffer_too_small") == 0);
    CHECK(strcmp(tw_status_name(TW_PANIC), "panic") == 0);
    CHECK(strcmp(tw_status_name(7), "unknown") == 0);
    CHECK(strcmp(tw_status_name(UINT32_MAX), "unknown") == 0);
    CHECK(TW_OK == 0 && TW_MISSING == 1000 && TW_NULL_ARGUMENT == 2100 &&
          TW_BUFFER_TOO_SMALL == 2102 && TW_PANIC == 6001);
}

static void test_strings(void) {
    tw_str empty = {NULL, 0};
    tw_str_free(empty); /* ignored */
    CHECK_STATUS(tw_last_error_detail(NULL), TW_NULL_ARGUMENT);
    tw_str d = {NULL, 0};
    CHECK_STATUS(tw_last_error_detail(&d), TW_OK);
    CHECK(d.ptr != NULL);
    tw_str_free(d);
}

static void test_generate(void) {
    tw_str t = UNTOUCHED;
    CHECK_STATUS(tw_generate(&t), TW_OK);
    CHECK(t.len == TW_TOKEN_LENGTH && t.ptr[10] == '-' && t.ptr[t.len] == '\0');
    tw_str id = UNTOUCHED, secret = UNTOUCHED;
    CHECK_STATUS(tw_parse(t.ptr, t.len, &id, &secret), TW_OK);
    CHECK(str_eq(id, t.ptr, 10) && str_eq(secret, t.ptr + 11, 22));
    tw_str_free(id);
    tw_str_free(secret);
    tw_str u = UNTOUCHED;
    CHECK_STATUS(tw_generate(&u), TW_OK);
    CHECK(u.len == t.len && memcmp(u.ptr, t.ptr, t.len) != 0);
    tw_str_free(t);
    tw_str_free(u);
    CHECK_STATUS(tw_generate(NULL), TW_NULL_ARGUMENT);
    CHECK(detail_is("argument `out` is NULL"));
}

static void test_parse(void) {
    tw_str id = UNTOUCHED, secret = UNTOUCHED;
    CHECK_STATUS(tw_parse(S("fJ8kQ2mN4p-Zr7TqW3xLm9VbN2cK5dH8s"), &id, &secret), TW_OK);
    CHECK(str_eq(id, S("fJ8kQ2mN4p")) && str_eq(secret, S("Zr7TqW3xLm9VbN2cK5dH8s")));
    tw_str_free(id);
    tw_str_free(secret);

    /* The length decides, not a terminator: a NUL inside is an ordinary byte, as in Coder. */
    id = UNTOUCHED, secret = UNTOUCHED;
    CHECK_STATUS(tw_parse(S("fJ8kQ2\0N4p-Zr7TqW3xLm9VbN2cK5dH8s"), &id, &secret), TW_OK);
    CHECK(id.len == 10 && id.ptr[6] == '\0' && id.ptr[10] == '\0');
    tw_str_free(id);
    tw_str_free(secret);

    id = UNTOUCHED, secret = UNTOUCHED;
    CHECK_STATUS(tw_parse(S("test-wow-hello"), &id, &secret), TW_INVALID_TOKEN);
    CHECK(detail_is("incorrect amount of API key parts, expected 2 got 3"));
    CHECK(untouched(id) && untouched(secret));
    /* Only the first token_len bytes are read. */
    CHECK_STATUS(tw_parse("fJ8kQ2mN4p-Zr7TqW3xLm9VbN2cK5dH8sXXXX", 33, &id, &secret), TW_OK);
    CHECK(str_eq(secret, S("Zr7TqW3xLm9VbN2cK5dH8s")));
    tw_str_free(id);
    tw_str_free(secret);

    id = UNTOUCHED, secret = UNTOUCHED;
    CHECK_STATUS(tw_parse("", 0, &id, &secret), TW_INVALID_TOKEN);
    CHECK(detail_is("incorrect amount of API key parts, expected 2 got 1"));
    CHECK_STATUS(tw_parse(NULL, 0, &id, &secret), TW_NULL_ARGUMENT);
    CHECK(detail_is("argument `token` is NULL"));
    CHECK_STATUS(tw_parse(NULL, 33, &id, &secret), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_parse(S("fJ8kQ2mN4p-Zr7TqW3xLm9VbN2cK5dH8s"), NULL, &secret),
                 TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_parse(S("fJ8kQ2mN4p-Zr7TqW3xLm9VbN2cK5dH8s"), &id, NULL),
                 TW_NULL_ARGUMENT);
    CHECK(untouched(id) && untouched(secret));
    CHECK_STATUS(tw_parse(S("fJ8kQ2mN4\xff-Zr7TqW3xLm9VbN2cK5dH8s"), &id, &secret),
                 TW_INVALID_UTF8);
    CHECK(untouched(id) && untouched(secret));
    CHECK_STATUS(tw_parse(S("\xc3"), &id, &secret), TW_INVALID_UTF8); /* cut mid-character */
}

static void test_hash(void) {
    /* SHA-256("Zr7TqW3xLm9VbN2cK5dH8s") as hash.json has it, checked below via a key. */
    uint8_t out[TW_HASH_LENGTH + 1];
    memset(out, 0xAA, sizeof out);
    CHECK_STATUS(tw_hash_secret("", 0, out, TW_HASH_LENGTH), TW_OK);
    /* SHA-256 of nothing. */
    static const uint8_t empty[32] = {
        0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
        0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b,
        0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
    CHECK(memcmp(out, empty, 32) == 0);
    CHECK(out[32] == 0xAA); /* nothing past the hash */

    memset(out, 0xAA, sizeof out);
    CHECK_STATUS(tw_hash_secret(S("abc"), out, TW_HASH_LENGTH - 1), TW_BUFFER_TOO_SMALL);
    CHECK(detail_is("the hash needs 32 bytes, the buffer has 31"));
    CHECK(out[0] == 0xAA);
    CHECK_STATUS(tw_hash_secret(S("abc"), out, 0), TW_BUFFER_TOO_SMALL);
    CHECK_STATUS(tw_hash_secret(S("abc"), NULL, 32), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_hash_secret(NULL, 3, out, 32), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_hash_secret(S("\x80"), out, 32), TW_INVALID_UTF8);
    CHECK(out[0] == 0xAA);
}

static void test_duration(void) {
    int64_t nanos = -1;
    CHECK_STATUS(tw_duration_parse(S("1h30m"), &nanos), TW_OK);
    CHECK(nanos == 5400LL * 1000000000LL);
    CHECK_STATUS(tw_duration_parse(S("7d"), &nanos), TW_OK);
    CHECK(nanos == 7LL * 24 * 3600 * 1000000000LL);
    CHECK_STATUS(tw_duration_parse(S("-9223372036854775808ns"), &nanos), TW_OK);
    CHECK(nanos == INT64_MIN);
    nanos = 42;
    CHECK_STATUS(tw_duration_parse(S("5"), &nanos), TW_INVALID_DURATION);
    CHECK(detail_is("time: missing unit in duration \"5\""));
    CHECK(nanos == 42);
    CHECK_STATUS(tw_duration_parse("", 0, &nanos), TW_INVALID_DURATION);
    CHECK(detail_is("time: invalid duration \"\""));
    CHECK_STATUS(tw_duration_parse(NULL, 0, &nanos), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_duration_parse(S("1h"), NULL), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_duration_parse(S("1\xffh"), &nanos), TW_INVALID_UTF8);
    CHECK(nanos == 42);

    tw_str s = UNTOUCHED;
    CHECK_STATUS(tw_duration_format(5400LL * 1000000000LL, &s), TW_OK);
    CHECK(str_eq(s, S("1h30m0s")));
    tw_str_free(s);
    CHECK_STATUS(tw_duration_format(1500, &s), TW_OK);
    CHECK(str_eq(s, S("1.5\xc2\xb5s")));
    tw_str_free(s);
    CHECK_STATUS(tw_duration_format(0, &s), TW_OK);
    CHECK(str_eq(s, S("0s")));
    tw_str_free(s);
    CHECK_STATUS(tw_duration_format(INT64_MIN, &s), TW_OK);
    CHECK(str_eq(s, S("-2562047h47m16.854775808s")));
    tw_str_free(s);
    CHECK_STATUS(tw_duration_format(1, NULL), TW_NULL_ARGUMENT);
}

static const char KEY_JSON[] =
    "{\"id\":\"fJ8kQ2mN4p\","
    "\"hashed_secret\":\"0000000000000000000000000000000000000000000000000000000000000000\","
    "\"user_id\":\"jane\",\"last_used\":\"1970-01-01T00:00:00Z\","
    "\"expires_at\":\"2026-03-02T12:00:00.5Z\",\"created_at\":\"2026-03-01T12:00:00Z\","
    "\"updated_at\":\"2026-03-01T12:00:00Z\",\"login_type\":\"password\","
    "\"lifetime_seconds\":86400,\"ip_address\":\"192.0.2.1\",\"token_name\":\"\","
    "\"scopes\":[\"coder:all\"],\"allow_list\":[{\"type\":\"*\",\"id\":\"*\"}]}";

static void test_key(void) {
    tw_key *key = NULL;
    CHECK_STATUS(tw_key_from_json(S(KEY_JSON), &key), TW_OK);
    CHECK(key != NULL);
    tw_str s = UNTOUCHED;
    CHECK_STATUS(tw_key_id(key, &s), TW_OK);
    CHECK(str_eq(s, S("fJ8kQ2mN4p")));
    tw_str_free(s);
    CHECK_STATUS(tw_key_user_id(key, &s), TW_OK);
    CHECK(str_eq(s, S("jane")));
    tw_str_free(s);
    CHECK_STATUS(tw_key_login_type(key, &s), TW_OK);
    CHECK(str_eq(s, S("password")));
    tw_str_free(s);
    int64_t expires = 0;
    CHECK_STATUS(tw_key_expires_at(key, &expires), TW_OK);
    CHECK(expires == 1772452800500000LL);
    CHECK_STATUS(tw_key_to_json(key, &s), TW_OK);
    CHECK(s.len > 0 && strstr(s.ptr, "\"user_id\":\"jane\"") != NULL);
    CHECK(strstr(s.ptr, "hashed_secret") == NULL && strstr(s.ptr, "192.0.2.1") == NULL);
    tw_str_free(s);

    s = UNTOUCHED;
    CHECK_STATUS(tw_key_id(NULL, &s), TW_NULL_ARGUMENT);
    CHECK(detail_is("argument `key` is NULL"));
    CHECK_STATUS(tw_key_user_id(NULL, &s), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_key_login_type(NULL, &s), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_key_to_json(NULL, &s), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_key_expires_at(NULL, &expires), TW_NULL_ARGUMENT);
    CHECK(untouched(s));
    CHECK_STATUS(tw_key_id(key, NULL), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_key_user_id(key, NULL), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_key_login_type(key, NULL), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_key_to_json(key, NULL), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_key_expires_at(key, NULL), TW_NULL_ARGUMENT);
    tw_key_free(key);
    tw_key_free(NULL);

    tw_key *other = (tw_key *)&other; /* a sentinel: must stay as it is */
    tw_key *const sentinel = other;
    CHECK_STATUS(tw_key_from_json(S("{}"), &other), TW_INVALID_KEY);
    CHECK(other == sentinel);
    CHECK_STATUS(tw_key_from_json("", 0, &other), TW_INVALID_KEY);
    /* Only json_len bytes are read: the record cut short is no record. */
    CHECK_STATUS(tw_key_from_json(KEY_JSON, sizeof KEY_JSON - 2, &other), TW_INVALID_KEY);
    CHECK_STATUS(tw_key_from_json(S("{\"id\":\"\xff\"}"), &other), TW_INVALID_UTF8);
    CHECK_STATUS(tw_key_from_json(NULL, 5, &other), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_key_from_json(S(KEY_JSON), NULL), TW_NULL_ARGUMENT);
    CHECK(other == sentinel);
}

static void test_settings(void) {
    tw_settings *settings = NULL;
    CHECK_STATUS(tw_settings_from_json(S("{}"), &settings), TW_OK);
    CHECK(settings != NULL);
    tw_settings_free(settings);
    settings = NULL;
    CHECK_STATUS(tw_settings_from_json(S("{\"session_duration\":\"1h\"}"), &settings), TW_OK);
    tw_settings_free(settings);
    settings = NULL;
    CHECK_STATUS(tw_settings_from_json(S("{\"session_duration\":\"soon\"}"), &settings),
                 TW_INVALID_SETTINGS);
    CHECK_STATUS(tw_settings_from_json(S("{\"nope\":1}"), &settings), TW_INVALID_SETTINGS);
    CHECK_STATUS(tw_settings_from_json(S("[]"), &settings), TW_INVALID_SETTINGS);
    CHECK_STATUS(tw_settings_from_json("", 0, &settings), TW_INVALID_SETTINGS);
    CHECK_STATUS(tw_settings_from_json(S("{\"access_url\":\"\xfe\"}"), &settings),
                 TW_INVALID_UTF8);
    CHECK_STATUS(tw_settings_from_json(NULL, 0, &settings), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_settings_from_json(S("{}"), NULL), TW_NULL_ARGUMENT);
    CHECK(settings == NULL);
    tw_settings_free(NULL);
}

/* One check.json case through tw_verify_record and every verdict getter, in `verdict`, which
 * the cases share: each call replaces the last one's answer. */
static void run_case(const struct check_case *c, tw_verdict *verdict) {
    int before = failures;
    tw_key *key = NULL;
    if (c->record != NULL) CHECK_STATUS(tw_key_from_json(c->record, c->record_len, &key), TW_OK);
    tw_settings *settings = NULL;
    CHECK_STATUS(tw_settings_from_json(c->settings, c->settings_len, &settings), TW_OK);
    CHECK_STATUS(tw_verify_record(c->presented, c->presented_len, key, settings, c->now,
                                  c->remote_addr, c->remote_addr_len, verdict),
                 c->code);
    {
        tw_status code = 9999;
        CHECK_STATUS(tw_verdict_code(verdict, &code), TW_OK);
        CHECK(code == c->code);
        uint16_t http = 0;
        CHECK_STATUS(tw_verdict_http_status(verdict, &http), TW_OK);
        CHECK(http == (c->code == TW_OK ? 200 : 401));
        tw_str s = UNTOUCHED;
        CHECK_STATUS(tw_verdict_message(verdict, &s), TW_OK);
        CHECK(str_eq(s, c->message, c->message_len));
        tw_str_free(s);
        CHECK_STATUS(tw_verdict_detail(verdict, &s), TW_OK);
        CHECK(str_eq(s, c->detail, c->detail_len));
        tw_str_free(s);
        if (c->code != TW_OK) CHECK(detail_is(c->detail));
        CHECK_STATUS(tw_verdict_www_authenticate(verdict, &s), TW_OK);
        CHECK(str_eq(s, c->www_authenticate, c->www_authenticate_len));
        tw_str_free(s);
        CHECK_STATUS(tw_verdict_body(verdict, &s), TW_OK);
        CHECK(c->code == TW_OK ? s.len == 0 : strstr(s.ptr, "\"detail\":") != NULL);
        tw_str_free(s);
        tw_update update;
        memset(&update, 0xAA, sizeof update);
        CHECK_STATUS(tw_verdict_update(verdict, &update), TW_OK);
        CHECK(update.present == c->update_present);
        if (c->update_present) {
            CHECK(update.last_used_micros == c->last_used);
            CHECK(update.expires_at_micros == c->expires_at);
        }
        CHECK_STATUS(tw_verdict_update_ip(verdict, &s), TW_OK);
        CHECK(str_eq(s, c->ip, c->ip_len));
        tw_str_free(s);
        /* The key verified is the caller's record: the verdict holds none of its own. */
        tw_key *verified = NULL;
        CHECK_STATUS(tw_verdict_key(verdict, &verified),
                     c->code == TW_OK ? TW_INVALID_ARGUMENT : c->code);
        CHECK(verified == NULL);
    }
    tw_settings_free(settings);
    tw_key_free(key);
    if (failures != before) fprintf(stderr, "  in check.json case %s\n", c->name);
}

static void test_verify(void) {
    tw_verdict *verdict = NULL;
    CHECK_STATUS(tw_verdict_new(NULL), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_verdict_new(&verdict), TW_OK);
    if (verdict == NULL) return;
    size_t n = sizeof CHECK_CASES / sizeof CHECK_CASES[0];
    for (size_t i = 0; i < n; i++) run_case(&CHECK_CASES[i], verdict);
    printf("check.json: %zu cases\n", n);
    tw_verdict_free(verdict);

    /* A new verdict holds no answer yet. */
    tw_status code = 9999;
    verdict = NULL;
    CHECK_STATUS(tw_verdict_new(&verdict), TW_OK);
    CHECK_STATUS(tw_verdict_code(verdict, &code), TW_INVALID_ARGUMENT);
    CHECK(code == 9999);

    /* A rejection with default settings (NULL) fills the verdict. */
    CHECK_STATUS(tw_verify_record("", 0, NULL, NULL, 0, "", 0, verdict), TW_MISSING);
    CHECK_STATUS(tw_verdict_code(verdict, &code), TW_OK);
    CHECK(code == TW_MISSING);

    /* Bad input leaves the verdict empty, so an earlier answer is never read as this one's. */
    CHECK_STATUS(tw_verify_record(NULL, 0, NULL, NULL, 0, S(""), verdict), TW_NULL_ARGUMENT);
    CHECK(detail_is("argument `presented` is NULL"));
    CHECK_STATUS(tw_verdict_code(verdict, &code), TW_INVALID_ARGUMENT);
    CHECK_STATUS(tw_verify_record(S("x"), NULL, NULL, 0, NULL, 0, verdict), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_verify_record(S("x"), NULL, NULL, 0, S(""), NULL), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_verify_record(S("\xff"), NULL, NULL, 0, S(""), verdict), TW_INVALID_UTF8);
    CHECK_STATUS(tw_verify_record(S("x"), NULL, NULL, 0, S("\xff"), verdict), TW_INVALID_UTF8);
    CHECK_STATUS(tw_verify_record(S("x"), NULL, NULL, INT64_MAX, S(""), verdict),
                 TW_INVALID_TIMESTAMP);
    CHECK_STATUS(tw_verdict_code(verdict, &code), TW_INVALID_ARGUMENT);

    /* Cleared, a verdict holds no answer again; NULL is ignored. */
    CHECK_STATUS(tw_verify_record("", 0, NULL, NULL, 0, "", 0, verdict), TW_MISSING);
    tw_verdict_clear(verdict);
    CHECK_STATUS(tw_verdict_code(verdict, &code), TW_INVALID_ARGUMENT);
    tw_verdict_clear(NULL);

    /* Getters refuse NULL. */
    tw_str s = UNTOUCHED;
    tw_update update;
    uint16_t http;
    CHECK_STATUS(tw_verdict_code(NULL, &code), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_verdict_http_status(NULL, &http), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_verdict_message(NULL, &s), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_verdict_detail(NULL, &s), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_verdict_www_authenticate(NULL, &s), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_verdict_body(NULL, &s), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_verdict_update(NULL, &update), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_verdict_update_ip(NULL, &s), TW_NULL_ARGUMENT);
    CHECK(untouched(s));
    CHECK_STATUS(tw_verify_record("", 0, NULL, NULL, 0, "", 0, verdict), TW_MISSING);
    CHECK_STATUS(tw_verdict_key(verdict, NULL), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_verdict_code(verdict, NULL), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_verdict_http_status(verdict, NULL), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_verdict_message(verdict, NULL), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_verdict_detail(verdict, NULL), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_verdict_www_authenticate(verdict, NULL), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_verdict_body(verdict, NULL), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_verdict_update(verdict, NULL), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_verdict_update_ip(verdict, NULL), TW_NULL_ARGUMENT);
    tw_verdict_free(verdict);
    tw_verdict_free(NULL);
}

#define JANE "{\"id\":\"jane\",\"roles\":[]}"
#define BOB "{\"id\":\"bob\"}"
#define OWNER "{\"id\":\"root\",\"roles\":[\"owner\"]}"

/* The token's authenticate status, the verdict freed. */
static tw_status authenticate(const tw_authority *a, tw_str token) {
    tw_verdict *verdict = NULL;
    CHECK_STATUS(tw_verdict_new(&verdict), TW_OK);
    tw_status status = tw_authority_authenticate(a, token.ptr, token.len, S("203.0.113.7"),
                                                 verdict);
    tw_verdict_free(verdict);
    return status;
}

/* The whole lifecycle over the store `url`. */
static void authority_lifecycle(const char *url) {
    int before = failures;
    tw_settings *settings = NULL;
    CHECK_STATUS(
        tw_settings_from_json(S("{\"session_duration\":\"1h\",\"max_token_lifetime\":\"720h\"}"),
                              &settings),
        TW_OK);
    tw_authority *a = NULL;
    CHECK_STATUS(tw_authority_open(url, strlen(url), settings, &a), TW_OK);
    tw_settings_free(settings); /* copied: the authority keeps working */
    CHECK(a != NULL);
    if (a == NULL) return;

    /* Create a named token; the default request is "". */
    tw_str token = UNTOUCHED;
    tw_key *key = NULL;
    CHECK_STATUS(tw_authority_create_token(a, S(JANE), S(JANE),
                                           S("{\"token_name\":\"ci\",\"lifetime\":\"24h\"}"),
                                           S("203.0.113.7"), &token, &key),
                 TW_OK);
    CHECK(token.len == TW_TOKEN_LENGTH);
    tw_str id = UNTOUCHED;
    CHECK_STATUS(tw_key_id(key, &id), TW_OK);
    CHECK(id.len == 10 && memcmp(id.ptr, token.ptr, 10) == 0);
    tw_str login = UNTOUCHED;
    CHECK_STATUS(tw_key_login_type(key, &login), TW_OK);
    CHECK(str_eq(login, S("token")));
    tw_str_free(login);
    tw_key_free(key);

    tw_str other = UNTOUCHED;
    key = NULL;
    CHECK_STATUS(tw_authority_create_token(a, S(JANE), S(JANE), "", 0, S(""), &other, &key),
                 TW_OK);
    tw_str_free(other);
    tw_key_free(key);

    /* The name is taken; an actor who is not an owner cannot mint for another user. */
    tw_str t2 = UNTOUCHED;
    tw_key *k2 = NULL;
    CHECK_STATUS(tw_authority_create_token(a, S(JANE), S(JANE), S("{\"token_name\":\"ci\"}"),
                                           S(""), &t2, &k2),
                 TW_CONFLICT);
    CHECK_STATUS(tw_authority_create_token(a, S(BOB), S(JANE), "", 0, S(""), &t2, &k2),
                 TW_FORBIDDEN);
    CHECK_STATUS(tw_authority_create_token(a, S(JANE), S(JANE), S("{\"lifetime\":\"10000h\"}"),
                                           S(""), &t2, &k2),
                 TW_LIFETIME_TOO_LONG);
    /* Bad JSON. */
    CHECK_STATUS(tw_authority_create_token(a, S("{\"id\":"), S(JANE), "", 0, S(""), &t2, &k2),
                 TW_INVALID_ARGUMENT);
    CHECK_STATUS(tw_authority_create_token(a, S(JANE), S("[]"), "", 0, S(""), &t2, &k2),
                 TW_INVALID_ARGUMENT);
    CHECK_STATUS(tw_authority_create_token(a, S(JANE), S(JANE), S("{\"lifetime\":true}"),
                                           S(""), &t2, &k2),
                 TW_INVALID_ARGUMENT);
    CHECK_STATUS(tw_authority_create_token(a, S(JANE), S("\xff"), "", 0, S(""), &t2, &k2),
                 TW_INVALID_UTF8);
    /* NULL arguments. */
    CHECK_STATUS(tw_authority_create_token(NULL, S(JANE), S(JANE), "", 0, S(""), &t2, &k2),
                 TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_authority_create_token(a, NULL, 0, S(JANE), "", 0, S(""), &t2, &k2),
                 TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_authority_create_token(a, S(JANE), S(JANE), NULL, 0, S(""), &t2, &k2),
                 TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_authority_create_token(a, S(JANE), S(JANE), "", 0, S(""), NULL, &k2),
                 TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_authority_create_token(a, S(JANE), S(JANE), "", 0, S(""), &t2, NULL),
                 TW_NULL_ARGUMENT);
    CHECK(untouched(t2) && k2 == NULL);

    /* Authenticate: verified, with the key and its first-use refresh. */
    tw_verdict *verdict = NULL;
    CHECK_STATUS(tw_verdict_new(&verdict), TW_OK);
    CHECK_STATUS(tw_authority_authenticate(a, token.ptr, token.len, S("203.0.113.7"), verdict),
                 TW_OK);
    {
        tw_update update;
        CHECK_STATUS(tw_verdict_update(verdict, &update), TW_OK);
        CHECK(update.present);
        tw_str ip = UNTOUCHED;
        CHECK_STATUS(tw_verdict_update_ip(verdict, &ip), TW_OK);
        CHECK(str_eq(ip, S("203.0.113.7")));
        tw_str_free(ip);
        uint16_t http = 0;
        CHECK_STATUS(tw_verdict_http_status(verdict, &http), TW_OK);
        CHECK(http == 200);
        tw_key *verified = NULL;
        CHECK_STATUS(tw_verdict_key(verdict, &verified), TW_OK);
        tw_str owner = UNTOUCHED;
        CHECK_STATUS(tw_key_user_id(verified, &owner), TW_OK);
        CHECK(str_eq(owner, S("jane")));
        tw_str_free(owner);
        tw_key_free(verified);
        CHECK_STATUS(tw_verdict_key(verdict, NULL), TW_NULL_ARGUMENT);
    }
    CHECK_STATUS(authenticate(a, token), TW_OK); /* again */

    /* Rejections fill the verdict too, with Coder's answer. */
    tw_status code = 9999;
    CHECK_STATUS(tw_authority_authenticate(a, "", 0, S(""), verdict), TW_MISSING);
    CHECK_STATUS(tw_verdict_code(verdict, &code), TW_OK);
    CHECK(code == TW_MISSING);
    char forged[TW_TOKEN_LENGTH];
    memcpy(forged, token.ptr, TW_TOKEN_LENGTH);
    forged[TW_TOKEN_LENGTH - 1] = forged[TW_TOKEN_LENGTH - 1] == 'a' ? 'b' : 'a';
    CHECK_STATUS(tw_authority_authenticate(a, forged, sizeof forged, S(""), verdict),
                 TW_INVALID_SECRET);
    {
        uint16_t http = 0;
        CHECK_STATUS(tw_verdict_http_status(verdict, &http), TW_OK);
        CHECK(http == 401);
        tw_str body = UNTOUCHED;
        CHECK_STATUS(tw_verdict_body(verdict, &body), TW_OK);
        CHECK(strstr(body.ptr, "API key secret is invalid.") != NULL);
        tw_str_free(body);
        tw_key *none = NULL;
        CHECK_STATUS(tw_verdict_key(verdict, &none), TW_INVALID_SECRET);
        CHECK(none == NULL);
    }
    CHECK_STATUS(tw_authority_authenticate(a, S("nope"), S(""), verdict), TW_MALFORMED);
    CHECK_STATUS(tw_authority_authenticate(NULL, S("x"), S(""), verdict), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_verdict_code(verdict, &code), TW_INVALID_ARGUMENT);
    CHECK_STATUS(tw_authority_authenticate(a, NULL, 0, S(""), verdict), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_authority_authenticate(a, S("x"), NULL, 0, verdict), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_authority_authenticate(a, S("x"), S(""), NULL), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_authority_authenticate(a, S("\xff"), S(""), verdict), TW_INVALID_UTF8);
    CHECK_STATUS(tw_verdict_code(verdict, &code), TW_INVALID_ARGUMENT);
    tw_verdict_free(verdict);

    /* Sessions. */
    tw_str session = UNTOUCHED;
    key = NULL;
    CHECK_STATUS(tw_authority_create_session(a, S(BOB), S("password"), S("198.51.100.1"),
                                             &session, &key),
                 TW_OK);
    CHECK(session.len == TW_TOKEN_LENGTH);
    CHECK_STATUS(authenticate(a, session), TW_OK);
    tw_str_free(session);
    tw_key_free(key);
    CHECK_STATUS(tw_authority_create_session(a, S(BOB), S("magic"), S(""), &t2, &k2),
                 TW_INVALID_LOGIN_TYPE);
    CHECK_STATUS(tw_authority_create_session(a, S("bob"), S("password"), S(""), &t2, &k2),
                 TW_INVALID_ARGUMENT);
    CHECK_STATUS(tw_authority_create_session(NULL, S(BOB), S("password"), S(""), &t2, &k2),
                 TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_authority_create_session(a, S(BOB), NULL, 0, S(""), &t2, &k2),
                 TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_authority_create_session(a, S(BOB), S("password"), S(""), &t2, NULL),
                 TW_NULL_ARGUMENT);
    CHECK(untouched(t2) && k2 == NULL);

    /* List: Jane's two tokens, public view; none of Bob's; all of them for an owner. */
    tw_str list = UNTOUCHED;
    CHECK_STATUS(tw_authority_list_tokens(a, S(JANE), "", 0, &list), TW_OK);
    char quoted_id[16];
    snprintf(quoted_id, sizeof quoted_id, "\"%.*s\"", (int)id.len, id.ptr);
    CHECK(list.ptr != NULL && list.ptr[0] == '[' && strstr(list.ptr, quoted_id) != NULL);
    CHECK(strstr(list.ptr, "\"token_name\":\"ci\"") != NULL);
    CHECK(strstr(list.ptr, "hashed_secret") == NULL);
    tw_str_free(list);
    CHECK_STATUS(tw_authority_list_tokens(a, S(BOB), "", 0, &list), TW_OK);
    CHECK(str_eq(list, S("[]")));
    tw_str_free(list);
    CHECK_STATUS(tw_authority_list_tokens(a, S(OWNER), S("{\"all\":true}"), &list), TW_OK);
    CHECK(strstr(list.ptr, quoted_id) != NULL);
    tw_str_free(list);
    CHECK_STATUS(tw_authority_list_tokens(a, S(OWNER), S("{\"user_id\":\"jane\"}"), &list),
                 TW_OK);
    CHECK(strstr(list.ptr, quoted_id) != NULL);
    tw_str_free(list);
    list = UNTOUCHED;
    CHECK_STATUS(tw_authority_list_tokens(a, S(JANE), S("{\"everything\":true}"), &list),
                 TW_INVALID_ARGUMENT);
    CHECK_STATUS(tw_authority_list_tokens(a, S(JANE), S("[1]"), &list), TW_INVALID_ARGUMENT);
    CHECK_STATUS(tw_authority_list_tokens(a, S("x"), "", 0, &list), TW_INVALID_ARGUMENT);
    CHECK_STATUS(tw_authority_list_tokens(NULL, S(JANE), "", 0, &list), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_authority_list_tokens(a, S(JANE), NULL, 0, &list), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_authority_list_tokens(a, S(JANE), "", 0, NULL), TW_NULL_ARGUMENT);
    CHECK(untouched(list));

    /* Get a key by id: the owner of the key or an owner; another user's is not found. */
    tw_key *got = NULL;
    CHECK_STATUS(tw_authority_get_key(a, S(JANE), id.ptr, id.len, &got), TW_OK);
    tw_str got_id = UNTOUCHED;
    CHECK_STATUS(tw_key_id(got, &got_id), TW_OK);
    CHECK(str_eq(got_id, id.ptr, id.len));
    tw_str_free(got_id);
    tw_key_free(got);
    got = NULL;
    CHECK_STATUS(tw_authority_get_key(a, S(OWNER), id.ptr, id.len, &got), TW_OK);
    tw_key_free(got);
    got = NULL;
    CHECK_STATUS(tw_authority_get_key(a, S(BOB), id.ptr, id.len, &got), TW_NOT_FOUND);
    CHECK_STATUS(tw_authority_get_key(a, S(JANE), S("aaaaaaaaaa"), &got), TW_NOT_FOUND);
    CHECK_STATUS(tw_authority_get_key(a, S(JANE), S("not-an-id"), &got), TW_INVALID_TOKEN);
    CHECK_STATUS(tw_authority_get_key(a, S("{"), id.ptr, id.len, &got), TW_INVALID_ARGUMENT);
    CHECK_STATUS(tw_authority_get_key(NULL, S(JANE), id.ptr, id.len, &got), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_authority_get_key(a, NULL, 0, id.ptr, id.len, &got), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_authority_get_key(a, S(JANE), NULL, 0, &got), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_authority_get_key(a, S(JANE), id.ptr, id.len, NULL), TW_NULL_ARGUMENT);
    CHECK(got == NULL);

    /* Find a token: by name, by id, by the whole token; never another user's. */
    CHECK_STATUS(tw_authority_find_token(a, S(JANE), S("jane"), S("ci"), &got), TW_OK);
    CHECK_STATUS(tw_key_id(got, &got_id), TW_OK);
    CHECK(str_eq(got_id, id.ptr, id.len));
    tw_str_free(got_id);
    tw_key_free(got);
    got = NULL;
    CHECK_STATUS(tw_authority_find_token(a, S(JANE), S("jane"), id.ptr, id.len, &got), TW_OK);
    tw_key_free(got);
    got = NULL;
    CHECK_STATUS(tw_authority_find_token(a, S(JANE), S("jane"), token.ptr, token.len, &got),
                 TW_OK);
    tw_key_free(got);
    got = NULL;
    CHECK_STATUS(tw_authority_find_token(a, S(BOB), S("jane"), S("ci"), &got), TW_NOT_FOUND);
    CHECK_STATUS(tw_authority_find_token(a, S(BOB), S("jane"), token.ptr, token.len, &got),
                 TW_NOT_FOUND);
    {
        /* The detail never echoes the secret of a whole token. */
        tw_str d = UNTOUCHED;
        CHECK_STATUS(tw_last_error_detail(&d), TW_OK);
        CHECK(d.ptr != NULL && strstr(d.ptr, token.ptr + 11) == NULL);
        tw_str_free(d);
    }
    CHECK_STATUS(tw_authority_find_token(a, S(JANE), S("jane"), S("nope"), &got), TW_NOT_FOUND);
    CHECK_STATUS(tw_authority_find_token(a, S("[]"), S("jane"), S("ci"), &got),
                 TW_INVALID_ARGUMENT);
    CHECK_STATUS(tw_authority_find_token(a, S(JANE), S("jane"), S("c\xff"), &got),
                 TW_INVALID_UTF8);
    CHECK_STATUS(tw_authority_find_token(NULL, S(JANE), S("jane"), S("ci"), &got),
                 TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_authority_find_token(a, NULL, 0, S("jane"), S("ci"), &got),
                 TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_authority_find_token(a, S(JANE), NULL, 0, S("ci"), &got), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_authority_find_token(a, S(JANE), S("jane"), NULL, 0, &got),
                 TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_authority_find_token(a, S(JANE), S("jane"), S("ci"), NULL),
                 TW_NULL_ARGUMENT);
    CHECK(got == NULL);

    /* Token config: the settings' 720h for a member, the default 168h for an owner. */
    int64_t max = 42;
    CHECK_STATUS(tw_authority_token_config(a, S(JANE), &max), TW_OK);
    CHECK(max == 720LL * 3600 * 1000000000LL);
    CHECK_STATUS(tw_authority_token_config(a, S(OWNER), &max), TW_OK);
    CHECK(max == 168LL * 3600 * 1000000000LL);
    max = 42;
    CHECK_STATUS(tw_authority_token_config(a, S("jane"), &max), TW_INVALID_ARGUMENT);
    CHECK_STATUS(tw_authority_token_config(NULL, S(JANE), &max), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_authority_token_config(a, NULL, 0, &max), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_authority_token_config(a, S(JANE), NULL), TW_NULL_ARGUMENT);
    CHECK(max == 42);

    /* A session key: login type password, no name; it authenticates. */
    tw_str skey = UNTOUCHED;
    key = NULL;
    CHECK_STATUS(tw_authority_create_session_key(a, S(BOB), S("198.51.100.2"), &skey, &key),
                 TW_OK);
    CHECK(skey.len == TW_TOKEN_LENGTH);
    CHECK_STATUS(tw_key_login_type(key, &login), TW_OK);
    CHECK(str_eq(login, S("password")));
    tw_str_free(login);
    tw_key_free(key);
    CHECK_STATUS(authenticate(a, skey), TW_OK);
    CHECK_STATUS(tw_authority_create_session_key(a, S("{\"roles\":1}"), S(""), &t2, &k2),
                 TW_INVALID_ARGUMENT);
    CHECK_STATUS(tw_authority_create_session_key(NULL, S(BOB), S(""), &t2, &k2),
                 TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_authority_create_session_key(a, NULL, 0, S(""), &t2, &k2),
                 TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_authority_create_session_key(a, S(BOB), NULL, 0, &t2, &k2),
                 TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_authority_create_session_key(a, S(BOB), S(""), NULL, &k2),
                 TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_authority_create_session_key(a, S(BOB), S(""), &t2, NULL),
                 TW_NULL_ARGUMENT);
    CHECK(untouched(t2) && k2 == NULL);

    /* Expire: Bob cannot see Jane's key; Jane can; then the token is expired. */
    CHECK_STATUS(tw_authority_expire(a, S(BOB), id.ptr, id.len), TW_NOT_FOUND);
    CHECK_STATUS(authenticate(a, token), TW_OK);
    CHECK_STATUS(tw_authority_expire(a, S(JANE), id.ptr, id.len), TW_OK);
    CHECK_STATUS(authenticate(a, token), TW_EXPIRED);
    CHECK_STATUS(tw_authority_list_tokens(a, S(JANE), "", 0, &list), TW_OK);
    CHECK(strstr(list.ptr, quoted_id) == NULL);
    tw_str_free(list);
    CHECK_STATUS(tw_authority_list_tokens(a, S(JANE), S("{\"include_expired\":true}"), &list),
                 TW_OK);
    CHECK(strstr(list.ptr, quoted_id) != NULL);
    tw_str_free(list);
    CHECK_STATUS(tw_authority_expire(a, S(JANE), S("not-an-id")), TW_INVALID_TOKEN);
    CHECK_STATUS(tw_authority_expire(a, S(JANE), S("aaaaaaaaaa")), TW_NOT_FOUND);
    CHECK_STATUS(tw_authority_expire(NULL, S(JANE), id.ptr, id.len), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_authority_expire(a, NULL, 0, id.ptr, id.len), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_authority_expire(a, S(JANE), NULL, 0), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_authority_expire(a, S("{"), id.ptr, id.len), TW_INVALID_ARGUMENT);

    /* Delete (an owner may): then the token is unknown. */
    CHECK_STATUS(tw_authority_delete(a, S(BOB), id.ptr, id.len), TW_NOT_FOUND);
    CHECK_STATUS(tw_authority_delete(a, S(OWNER), id.ptr, id.len), TW_OK);
    CHECK_STATUS(authenticate(a, token), TW_UNKNOWN_KEY);
    CHECK_STATUS(tw_authority_delete(a, S(JANE), id.ptr, id.len), TW_NOT_FOUND);
    CHECK_STATUS(tw_authority_delete(a, S(JANE), S("x")), TW_INVALID_TOKEN);
    CHECK_STATUS(tw_authority_delete(NULL, S(JANE), id.ptr, id.len), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_authority_delete(a, S(JANE), NULL, 0), TW_NULL_ARGUMENT);

    /* Purge: nothing expired past the retention. */
    uint64_t purged = 99;
    CHECK_STATUS(tw_authority_purge(a, &purged), TW_OK);
    CHECK(purged == 0);
    CHECK_STATUS(tw_authority_purge(a, NULL), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_authority_purge(NULL, &purged), TW_NULL_ARGUMENT);

    /* Delete a user's keys: Bob's session and session key; then his token is unknown. */
    uint64_t deleted = 99;
    CHECK_STATUS(tw_authority_delete_user_keys(a, S("bob"), &deleted), TW_OK);
    CHECK(deleted == 2);
    CHECK_STATUS(authenticate(a, skey), TW_UNKNOWN_KEY);
    CHECK_STATUS(tw_authority_delete_user_keys(a, S("bob"), &deleted), TW_OK);
    CHECK(deleted == 0);
    deleted = 99;
    CHECK_STATUS(tw_authority_delete_user_keys(a, S("b\xff"), &deleted), TW_INVALID_UTF8);
    CHECK_STATUS(tw_authority_delete_user_keys(NULL, S("bob"), &deleted), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_authority_delete_user_keys(a, NULL, 0, &deleted), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_authority_delete_user_keys(a, S("bob"), NULL), TW_NULL_ARGUMENT);
    CHECK(deleted == 99);
    tw_str_free(skey);

    tw_str_free(id);
    tw_str_free(token);
    tw_authority_free(a);
    if (failures != before) fprintf(stderr, "  with the store %s\n", url);
}

static void test_authority(void) {
    authority_lifecycle(":memory:");

    char dir[] = "/tmp/tokenward-c-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[64], wal[80], shm[80];
    snprintf(path, sizeof path, "%s/keys.db", dir);
    snprintf(wal, sizeof wal, "%s-wal", path);
    snprintf(shm, sizeof shm, "%s-shm", path);
    authority_lifecycle(path);
    /* The file keeps its keys across handles. */
    tw_authority *a = NULL;
    CHECK_STATUS(tw_authority_open(path, strlen(path), NULL, &a), TW_OK);
    tw_str list = UNTOUCHED;
    CHECK_STATUS(tw_authority_list_tokens(a, S(JANE), "", 0, &list), TW_OK);
    CHECK(list.len > 2); /* Jane's unnamed token is still there */
    tw_str_free(list);
    tw_authority_free(a);
    unlink(wal);
    unlink(shm);
    CHECK(unlink(path) == 0);
    CHECK(rmdir(dir) == 0);

    a = NULL;
    CHECK_STATUS(tw_authority_open(S(""), NULL, &a), TW_INVALID_ARGUMENT);
    /* An unsupported scheme is refused before any connection (postgres:// connects: see
     * test_postgres). */
    CHECK_STATUS(tw_authority_open(S("mysql://u:hunter2@h/db"), NULL, &a),
                 TW_INVALID_ARGUMENT);
    tw_str d = {NULL, 0};
    CHECK_STATUS(tw_last_error_detail(&d), TW_OK);
    CHECK(strstr(d.ptr, "hunter2") == NULL);
    tw_str_free(d);
    CHECK_STATUS(tw_authority_open(S("/nonexistent-dir-tokenward/keys.db"), NULL, &a),
                 TW_STORE_IO);
    CHECK_STATUS(tw_authority_open(NULL, 0, NULL, &a), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_authority_open(S(":memory:"), NULL, NULL), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_authority_open(S("\xff"), NULL, &a), TW_INVALID_UTF8);
    CHECK(a == NULL);
    tw_authority_free(NULL);
}

/* CHECK_STATUS, and on a wrong status the last error's detail (what the server said). */
#define CHECK_PG(call, want)                                                   \
    do {                                                                       \
        tw_status pg_got_ = (call);                                            \
        CHECK_STATUS(pg_got_, want);                                           \
        if (pg_got_ != (tw_status)(want)) {                                    \
            tw_str pg_detail_ = {NULL, 0};                                     \
            if (tw_last_error_detail(&pg_detail_) == TW_OK)                    \
                fprintf(stderr, "  %s: %s\n", #call, pg_detail_.ptr);          \
            tw_str_free(pg_detail_);                                           \
        }                                                                      \
    } while (0)

/* The server of TOKENWARD_POSTGRES_URL (scripts/postgres.sh start; scripts/test.sh starts one):
 * a token of a random-UUID user (Coder's users.id is a uuid) authenticates, then is expired;
 * a wrong password fails as TW_STORE_IO, and no text of the error shows either password.
 * Skipped without a server, unless TOKENWARD_TEST_POSTGRES is set (CI): then it fails. */
static void test_postgres(void) {
    const char *url = getenv("TOKENWARD_POSTGRES_URL");
    if (url == NULL || url[0] == '\0') {
        if (getenv("TOKENWARD_TEST_POSTGRES") != NULL) {
            checks++;
            failures++;
            fprintf(stderr, "test_postgres: TOKENWARD_TEST_POSTGRES is set but "
                            "TOKENWARD_POSTGRES_URL is not: start a server with "
                            "eval \"$(scripts/postgres.sh start)\"\n");
        } else {
            printf("test_postgres: skipped: no PostgreSQL server (TOKENWARD_POSTGRES_URL is not "
                   "set; eval \"$(scripts/postgres.sh start)\" starts one)\n");
        }
        return;
    }
    /* A random version-4 UUID. */
    unsigned char b[16] = {0};
    FILE *urandom = fopen("/dev/urandom", "rb");
    CHECK(urandom != NULL && fread(b, 1, sizeof b, urandom) == sizeof b);
    if (urandom != NULL) fclose(urandom);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    char uuid[37];
    snprintf(uuid, sizeof uuid,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
    char user[64];
    snprintf(user, sizeof user, "{\"id\":\"%s\"}", uuid);

    tw_authority *a = NULL;
    CHECK_PG(tw_authority_open(url, strlen(url), NULL, &a), TW_OK);
    if (a != NULL) {
        tw_str token = UNTOUCHED, id = UNTOUCHED, owner = UNTOUCHED;
        tw_key *key = NULL;
        CHECK_PG(tw_authority_create_token(a, user, strlen(user), user, strlen(user),
                                           S("{\"token_name\":\"ci\"}"), S(""), &token, &key),
                 TW_OK);
        if (key != NULL) {
            CHECK_STATUS(tw_key_id(key, &id), TW_OK);
            tw_key_free(key);
            tw_verdict *verdict = NULL;
            CHECK_STATUS(tw_verdict_new(&verdict), TW_OK);
            CHECK_PG(tw_authority_authenticate(a, token.ptr, token.len, S(""), verdict), TW_OK);
            key = NULL;
            CHECK_STATUS(tw_verdict_key(verdict, &key), TW_OK);
            tw_verdict_free(verdict);
            CHECK_STATUS(tw_key_user_id(key, &owner), TW_OK);
            CHECK(str_eq(owner, uuid, strlen(uuid)));
            tw_str_free(owner);
            tw_key_free(key);
            CHECK_PG(tw_authority_expire(a, user, strlen(user), id.ptr, id.len), TW_OK);
            CHECK_PG(authenticate(a, token), TW_EXPIRED);
            CHECK(tw_status_http(TW_EXPIRED) == 401);
            tw_str_free(id);
            tw_str_free(token);
        }
        tw_authority_free(a);
    }

    /* The URL with its password (between "user:" and "@") replaced by a wrong one. */
    const char *scheme_end = strstr(url, "://");
    const char *at = scheme_end != NULL ? strchr(scheme_end + 3, '@') : NULL;
    const char *colon = scheme_end != NULL ? strchr(scheme_end + 3, ':') : NULL;
    CHECK(at != NULL && colon != NULL && colon < at);
    if (at == NULL || colon == NULL || colon >= at) return;
    char password[128], wrong_url[512];
    const char *wrong = "wrong-Zr7TqW3xLm9VbN2cK5dH8s";
    int password_len = (int)(at - colon - 1);
    CHECK(password_len > 0 && password_len < (int)sizeof password);
    snprintf(password, sizeof password, "%.*s", password_len, colon + 1);
    CHECK(snprintf(wrong_url, sizeof wrong_url, "%.*s%s%s", (int)(colon + 1 - url), url, wrong,
                   at) < (int)sizeof wrong_url);
    a = NULL;
    CHECK_PG(tw_authority_open(wrong_url, strlen(wrong_url), NULL, &a), TW_STORE_IO);
    CHECK(a == NULL);
    tw_str detail = {NULL, 0}, message = {NULL, 0}, body = {NULL, 0}, www = {NULL, 0};
    uint16_t status = 0;
    CHECK_STATUS(tw_last_error_detail(&detail), TW_OK);
    CHECK_STATUS(tw_last_error_message(&message), TW_OK);
    CHECK_STATUS(tw_last_error_answer(NULL, &status, &body, &www), TW_OK);
    CHECK(status == 500);
    const tw_str texts[] = {detail, message, body, www};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        CHECK(texts[i].ptr != NULL && strstr(texts[i].ptr, wrong) == NULL &&
              strstr(texts[i].ptr, password) == NULL);
        tw_str_free(texts[i]);
    }
}

static void test_extract(void) {
    tw_header headers[] = {
        {S("Accept"), S("*/*")},
        {S("Cookie"), S("a=b; coder_session_token=from-cookie")},
        {S("coder-session-token"), S("from-header")},
    };
    tw_str token = UNTOUCHED;
    uint32_t source = 0;
    CHECK_STATUS(tw_extract_token(headers, 3, S("coder_session_token=from-query"), &token,
                                  &source),
                 TW_OK);
    CHECK(str_eq(token, S("from-cookie")) && source == TW_SOURCE_COOKIE);
    tw_str_free(token);
    CHECK_STATUS(tw_extract_token(headers + 2, 1, S("coder_session_token=from%2Dquery"), &token,
                                  &source),
                 TW_OK);
    CHECK(str_eq(token, S("from-query")) && source == TW_SOURCE_QUERY);
    tw_str_free(token);
    CHECK_STATUS(tw_extract_token(headers + 2, 1, S(""), &token, &source), TW_OK);
    CHECK(str_eq(token, S("from-header")) && source == TW_SOURCE_HEADER);
    tw_str_free(token);
    tw_header bearer[] = {{S("Authorization"), S("Bearer  abc ")}};
    CHECK_STATUS(tw_extract_token(bearer, 1, S("access_token=x"), &token, &source), TW_OK);
    CHECK(str_eq(token, S("abc")) && source == TW_SOURCE_BEARER);
    tw_str_free(token);
    CHECK_STATUS(tw_extract_token(headers, 1, S("access_token=%20tok%20"), &token, &source),
                 TW_OK);
    CHECK(str_eq(token, S("tok")) && source == TW_SOURCE_ACCESS_TOKEN);
    tw_str_free(token);

    /* No token: TW_MISSING, nothing written. An empty bearer hides access_token. */
    token = UNTOUCHED;
    source = 77;
    CHECK_STATUS(tw_extract_token(headers, 1, S(""), &token, &source), TW_MISSING);
    CHECK_STATUS(tw_extract_token(headers, 0, S(""), &token, &source), TW_MISSING);
    tw_header empty_bearer[] = {{S("Authorization"), S("Bearer ")}};
    CHECK_STATUS(tw_extract_token(empty_bearer, 1, S("access_token=x"), &token, &source),
                 TW_MISSING);

    /* Bad input. */
    tw_header null_name[] = {{NULL, 0, S("v")}};
    tw_header null_value[] = {{S("Cookie"), NULL, 0}};
    tw_header bad_utf8[] = {{S("Cookie"), S("coder_session_token=\xff")}};
    CHECK_STATUS(tw_extract_token(NULL, 0, S(""), &token, &source), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_extract_token(null_name, 1, S(""), &token, &source), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_extract_token(null_value, 1, S(""), &token, &source), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_extract_token(bad_utf8, 1, S(""), &token, &source), TW_INVALID_UTF8);
    CHECK_STATUS(tw_extract_token(headers, 1, NULL, 0, &token, &source), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_extract_token(headers, 1, S("\xfe"), &token, &source), TW_INVALID_UTF8);
    CHECK_STATUS(tw_extract_token(headers, 3, S(""), NULL, &source), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_extract_token(headers, 3, S(""), &token, NULL), TW_NULL_ARGUMENT);
    CHECK(untouched(token) && source == 77);
}

#ifdef TOKENWARD_FFI_TEST
/* A panic inside a real exported function returns TW_PANIC, and the library still works. */
static void test_panic(void) {
    fprintf(stderr, "test_panic: the two panic messages below are on purpose\n");
    CHECK_STATUS(tw_test_panic(), TW_PANIC);
    CHECK(detail_is("tokenward panicked; the call did not complete"));
    CHECK_STATUS(tw_test_panic(), TW_PANIC);
    tw_str t = UNTOUCHED;
    CHECK_STATUS(tw_generate(&t), TW_OK);
    CHECK(t.len == TW_TOKEN_LENGTH);
    tw_str_free(t);
    printf("panic test: ran\n");
}
#endif

/* The strict parse refuses characters outside 0-9A-Za-z that the lenient one takes. */
static void test_parse_strict(void) {
    tw_str id = UNTOUCHED, secret = UNTOUCHED;
    CHECK_STATUS(tw_parse_strict(S("0123456789-abcdefghijklmnopqrstuv"), &id, &secret), TW_OK);
    CHECK(str_eq(id, S("0123456789")) && str_eq(secret, S("abcdefghijklmnopqrstuv")));
    tw_str_free(id);
    tw_str_free(secret);
    id = secret = UNTOUCHED;
    CHECK_STATUS(tw_parse(S("01234_6789-abcdefghijklmnopqrstuv"), &id, &secret), TW_OK);
    tw_str_free(id);
    tw_str_free(secret);
    id = secret = UNTOUCHED;
    CHECK_STATUS(tw_parse_strict(S("01234_6789-abcdefghijklmnopqrstuv"), &id, &secret),
                 TW_INVALID_TOKEN);
    CHECK_STATUS(tw_parse_strict(S("0123456789-abcdefghijklmnopqrstu"), &id, &secret),
                 TW_INVALID_TOKEN);
    CHECK_STATUS(tw_parse_strict(NULL, 0, &id, &secret), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_parse_strict(S("0123456789-abcdefghijklmnopqrstuv"), NULL, &secret),
                 TW_NULL_ARGUMENT);
    CHECK(untouched(id) && untouched(secret));
}

/* Settings from the defaults, the environment, and one setting at a time by Coder's names. */
static void test_settings_sources(void) {
    tw_settings *settings = NULL;
    tw_str json = UNTOUCHED;
    CHECK_STATUS(tw_settings_default(&settings), TW_OK);
    CHECK_STATUS(tw_settings_to_json(settings, &json), TW_OK);
    CHECK(json.ptr != NULL && strstr(json.ptr, "\"session_duration\":\"24h0m0s\"") != NULL);
    CHECK(strstr(json.ptr, "\"max_admin_token_lifetime\":\"168h0m0s\"") != NULL);
    tw_str_free(json);

    /* By field name, by Coder's flag and by its variable. */
    CHECK_STATUS(tw_settings_set(settings, S("session_duration"), S("2h")), TW_OK);
    CHECK_STATUS(tw_settings_set(settings, S("default-token-lifetime"), S("7d")), TW_OK);
    CHECK_STATUS(tw_settings_set(settings, S("CODER_DISABLE_SESSION_EXPIRY_REFRESH"), S("true")),
                 TW_OK);
    CHECK_STATUS(tw_settings_set(settings, S("access_url"), S("https://coder.example.com")),
                 TW_OK);
    json = UNTOUCHED;
    CHECK_STATUS(tw_settings_to_json(settings, &json), TW_OK);
    CHECK(strstr(json.ptr, "\"session_duration\":\"2h0m0s\"") != NULL);
    CHECK(strstr(json.ptr, "\"default_token_lifetime\":\"168h0m0s\"") != NULL);
    CHECK(strstr(json.ptr, "\"disable_session_expiry_refresh\":true") != NULL);
    CHECK(strstr(json.ptr, "\"access_url\":\"https://coder.example.com\"") != NULL);
    tw_str_free(json);
    /* Refused, and the settings keep their value. */
    CHECK_STATUS(tw_settings_set(settings, S("session_duration"), S("soon")),
                 TW_INVALID_SETTINGS);
    CHECK(detail_is("invalid value \"soon\" for session_duration: time: invalid duration \"soon\""));
    CHECK_STATUS(tw_settings_set(settings, S("session_duration"), S("0s")), TW_INVALID_SETTINGS);
    CHECK_STATUS(tw_settings_set(settings, S("colour"), S("blue")), TW_INVALID_SETTINGS);
    CHECK(detail_is("unknown setting \"colour\""));
    CHECK_STATUS(tw_settings_set(settings, S("session_duration"), S("\xff")), TW_INVALID_UTF8);
    CHECK_STATUS(tw_settings_set(NULL, S("session_duration"), S("1h")), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_settings_set(settings, NULL, 0, S("1h")), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_settings_set(settings, S("session_duration"), NULL, 0), TW_NULL_ARGUMENT);
    json = UNTOUCHED;
    CHECK_STATUS(tw_settings_to_json(settings, &json), TW_OK);
    CHECK(strstr(json.ptr, "\"session_duration\":\"2h0m0s\"") != NULL);
    tw_str_free(json);
    CHECK_STATUS(tw_settings_to_json(NULL, &json), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_settings_to_json(settings, NULL), TW_NULL_ARGUMENT);
    tw_settings_free(settings);

    /* The environment: TOKENWARD_ wins over CODER_; a bad value names its variable. */
    settings = NULL;
    setenv("CODER_SESSION_DURATION", "3h", 1);
    setenv("CODER_MAX_TOKEN_LIFETIME", "720h", 1);
    setenv("TOKENWARD_MAX_TOKEN_LIFETIME", "48h", 1);
    CHECK_STATUS(tw_settings_from_env(&settings), TW_OK);
    json = UNTOUCHED;
    CHECK_STATUS(tw_settings_to_json(settings, &json), TW_OK);
    CHECK(strstr(json.ptr, "\"session_duration\":\"3h0m0s\"") != NULL);
    CHECK(strstr(json.ptr, "\"max_token_lifetime\":\"48h0m0s\"") != NULL);
    tw_str_free(json);
    tw_settings_free(settings);
    settings = NULL;
    setenv("CODER_API_KEYS_RETENTION", "forever", 1);
    CHECK_STATUS(tw_settings_from_env(&settings), TW_INVALID_SETTINGS);
    CHECK(settings == NULL);
    CHECK(detail_is("invalid value \"forever\" for CODER_API_KEYS_RETENTION: time: invalid "
                    "duration \"forever\""));
    unsetenv("CODER_SESSION_DURATION");
    unsetenv("CODER_MAX_TOKEN_LIFETIME");
    unsetenv("TOKENWARD_MAX_TOKEN_LIFETIME");
    unsetenv("CODER_API_KEYS_RETENTION");
    CHECK_STATUS(tw_settings_from_env(NULL), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_settings_default(NULL), TW_NULL_ARGUMENT);
}

/* A key built from its columns verifies its token; its getters give the columns back. */
static void test_key_fields(void) {
    tw_str token = UNTOUCHED, id = UNTOUCHED, secret = UNTOUCHED;
    CHECK_STATUS(tw_generate(&token), TW_OK);
    CHECK_STATUS(tw_parse(token.ptr, token.len, &id, &secret), TW_OK);
    uint8_t hash[TW_HASH_LENGTH];
    CHECK_STATUS(tw_hash_secret(secret.ptr, secret.len, hash, sizeof hash), TW_OK);
    tw_str_free(secret);

    const int64_t created = 1772366400000000LL; /* 2026-03-01T12:00:00Z */
    tw_key_fields fields = {
        .id = id.ptr, .id_len = id.len,
        .hashed_secret = hash, .hashed_secret_len = sizeof hash,
        .user_id = "jane", .user_id_len = 4,
        .login_type = "token", .login_type_len = 5,
        .created_at_micros = created,
        .expires_at_micros = created + 86400000000LL,
        .last_used_micros = 0,
        .lifetime_seconds = 0,
        .token_name = "ci", .token_name_len = 2,
        .ip_address = NULL, .ip_address_len = 0,
    };
    tw_key *key = NULL;
    CHECK_STATUS(tw_key_new(&fields, &key), TW_OK);
    int64_t n = -1;
    CHECK_STATUS(tw_key_created_at(key, &n), TW_OK);
    CHECK(n == created);
    CHECK_STATUS(tw_key_updated_at(key, &n), TW_OK);
    CHECK(n == created);
    CHECK_STATUS(tw_key_last_used(key, &n), TW_OK);
    CHECK(n == 0);
    CHECK_STATUS(tw_key_expires_at(key, &n), TW_OK);
    CHECK(n == created + 86400000000LL);
    CHECK_STATUS(tw_key_lifetime_seconds(key, &n), TW_OK);
    CHECK(n == 86400);
    tw_str s = UNTOUCHED;
    CHECK_STATUS(tw_key_token_name(key, &s), TW_OK);
    CHECK(str_eq(s, S("ci")));
    tw_str_free(s);
    CHECK_STATUS(tw_key_ip_address(key, &s), TW_OK);
    CHECK(str_eq(s, S("0.0.0.0")));
    tw_str_free(s);
    uint8_t back[64];
    size_t needed = 0;
    CHECK_STATUS(tw_key_hashed_secret(key, back, sizeof back, &needed), TW_OK);
    CHECK(needed == TW_HASH_LENGTH && memcmp(back, hash, TW_HASH_LENGTH) == 0);
    needed = 0;
    CHECK_STATUS(tw_key_hashed_secret(key, back, 31, &needed), TW_BUFFER_TOO_SMALL);
    CHECK(needed == TW_HASH_LENGTH);
    CHECK_STATUS(tw_key_hashed_secret(key, NULL, 0, &needed), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_key_hashed_secret(key, back, sizeof back, NULL), TW_NULL_ARGUMENT);

    /* The token verifies against it; its storage form reads back as the same record. */
    tw_verdict *verdict = NULL;
    CHECK_STATUS(tw_verdict_new(&verdict), TW_OK);
    CHECK_STATUS(tw_verify_record(token.ptr, token.len, key, NULL, created + 1000000, S(""),
                                  verdict),
                 TW_OK);
    tw_str storage = UNTOUCHED;
    CHECK_STATUS(tw_key_to_storage_json(key, &storage), TW_OK);
    CHECK(storage.ptr != NULL && strstr(storage.ptr, "\"hashed_secret\"") != NULL);
    tw_key *again = NULL;
    CHECK_STATUS(tw_key_from_json(storage.ptr, storage.len, &again), TW_OK);
    tw_str_free(storage);
    CHECK_STATUS(tw_verify_record(token.ptr, token.len, again, NULL, created + 1000000, S(""),
                                  verdict),
                 TW_OK);
    tw_key_free(again);
    CHECK_STATUS(tw_key_to_storage_json(NULL, &storage), TW_NULL_ARGUMENT);
    tw_verdict_free(verdict);
    tw_key_free(key);

    /* Each bad column is refused with its status; nothing written. */
    tw_key *none = NULL;
    tw_key_fields bad = fields;
    bad.id_len = 9;
    CHECK_STATUS(tw_key_new(&bad, &none), TW_INVALID_KEY);
    bad = fields;
    bad.hashed_secret_len = 31;
    CHECK_STATUS(tw_key_new(&bad, &none), TW_INVALID_KEY);
    CHECK(detail_is("hashed_secret is 31 bytes, not 32"));
    bad = fields;
    bad.user_id_len = 0;
    CHECK_STATUS(tw_key_new(&bad, &none), TW_INVALID_KEY);
    bad = fields;
    bad.login_type = "magic";
    bad.login_type_len = 5;
    CHECK_STATUS(tw_key_new(&bad, &none), TW_INVALID_LOGIN_TYPE);
    bad = fields;
    bad.expires_at_micros = INT64_MAX;
    CHECK_STATUS(tw_key_new(&bad, &none), TW_INVALID_TIMESTAMP);
    bad = fields;
    bad.lifetime_seconds = -1;
    CHECK_STATUS(tw_key_new(&bad, &none), TW_INVALID_KEY);
    bad = fields;
    bad.ip_address = "nowhere";
    bad.ip_address_len = 7;
    CHECK_STATUS(tw_key_new(&bad, &none), TW_INVALID_ARGUMENT);
    /* An IPv4-mapped address is stored as the IPv4 address, as every store keeps it. */
    tw_key_fields mapped = fields;
    mapped.ip_address = "::ffff:203.0.113.7";
    mapped.ip_address_len = strlen(mapped.ip_address);
    CHECK_STATUS(tw_key_new(&mapped, &none), TW_OK);
    tw_str ip = UNTOUCHED;
    CHECK_STATUS(tw_key_ip_address(none, &ip), TW_OK);
    CHECK(str_eq(ip, S("203.0.113.7")));
    tw_str_free(ip);
    tw_key_free(none);
    none = NULL;
    bad = fields;
    bad.user_id = "\xff";
    bad.user_id_len = 1;
    CHECK_STATUS(tw_key_new(&bad, &none), TW_INVALID_UTF8);
    bad = fields;
    bad.id = NULL;
    CHECK_STATUS(tw_key_new(&bad, &none), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_key_new(NULL, &none), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_key_new(&fields, NULL), TW_NULL_ARGUMENT);
    CHECK(none == NULL);
    tw_str_free(id);
    tw_str_free(token);
}

/* Lengths no object has are refused before any byte is read; 1 MiB inputs get their answer. */
static void test_lengths(void) {
    tw_str a = UNTOUCHED, b = UNTOUCHED;
    CHECK_STATUS(tw_parse("x", SIZE_MAX, &a, &b), TW_INVALID_ARGUMENT);
    CHECK(detail_is("argument `token_len` is larger than any object"));
    CHECK_STATUS(tw_parse("x", (size_t)PTRDIFF_MAX + 1, &a, &b), TW_INVALID_ARGUMENT);
    CHECK(untouched(a) && untouched(b));
    tw_key *key = NULL;
    CHECK_STATUS(tw_key_from_json("{}", SIZE_MAX, &key), TW_INVALID_ARGUMENT);
    int64_t nanos = 0;
    CHECK_STATUS(tw_duration_parse("1h", SIZE_MAX, &nanos), TW_INVALID_ARGUMENT);
    tw_verdict *verdict = NULL;
    CHECK_STATUS(tw_verdict_new(&verdict), TW_OK);
    CHECK_STATUS(tw_verify_record("x", SIZE_MAX, NULL, NULL, 0, S(""), verdict),
                 TW_INVALID_ARGUMENT);
    CHECK_STATUS(tw_verify_record(S("x"), NULL, NULL, 0, "x", SIZE_MAX, verdict),
                 TW_INVALID_ARGUMENT);

    size_t big = (size_t)1 << 20;
    char *mib = malloc(big);
    CHECK(mib != NULL);
    if (mib != NULL) {
        memset(mib, 'a', big);
        CHECK_STATUS(tw_parse(mib, big, &a, &b), TW_INVALID_TOKEN);
        CHECK_STATUS(tw_verify_record(mib, big, NULL, NULL, 0, S(""), verdict), TW_MALFORMED);
        CHECK_STATUS(tw_duration_parse(mib, big, &nanos), TW_INVALID_DURATION);
        CHECK_STATUS(tw_key_from_json(mib, big, &key), TW_INVALID_KEY);
        tw_header header = {"Coder-Session-Token", 19, mib, big};
        tw_str token = UNTOUCHED;
        uint32_t source = 0;
        CHECK_STATUS(tw_extract_token(&header, 1, "", 0, &token, &source), TW_OK);
        CHECK(token.len == big && source == TW_SOURCE_HEADER);
        tw_str_free(token);
        free(mib);
    }
    CHECK(key == NULL);
    tw_verdict_free(verdict);
}

/* Coder's message for every rejected token. */
#define SIGNED_OUT "You are signed out or your session has expired. Please sign in again to continue."

/* The last error's message and Coder's whole answer, for any call that failed. */
static void test_last_error_answer(void) {
    uint16_t status = 0;
    tw_str body = UNTOUCHED, www = UNTOUCHED, message = UNTOUCHED;

    /* A rejected token: 401, the challenge, Coder's JSON. */
    tw_verdict *verdict = NULL;
    CHECK_STATUS(tw_verdict_new(&verdict), TW_OK);
    CHECK_STATUS(tw_verify_record(S("nope"), NULL, NULL, 0, S(""), verdict), TW_MALFORMED);
    tw_verdict_free(verdict);
    CHECK_STATUS(tw_last_error_message(&message), TW_OK);
    CHECK(str_eq(message, S(SIGNED_OUT)));
    tw_str_free(message);
    CHECK_STATUS(tw_last_error_answer(NULL, &status, &body, &www), TW_OK);
    CHECK(status == 401);
    CHECK(body.ptr != NULL && strncmp(body.ptr, "{\"message\":\"" SIGNED_OUT "\"",
                                      strlen(SIGNED_OUT) + 13) == 0);
    CHECK(www.ptr != NULL && strncmp(www.ptr, "Bearer realm=\"coder\"", 20) == 0);
    tw_str_free(body);
    tw_str_free(www);
    /* Reading it does not replace it. */
    body = www = UNTOUCHED;
    CHECK_STATUS(tw_last_error_answer(NULL, &status, &body, &www), TW_OK);
    CHECK(status == 401);
    tw_str_free(body);
    tw_str_free(www);

    /* A handler's failure: 400 with Coder's message, no challenge. */
    tw_authority *a = NULL;
    CHECK_STATUS(tw_authority_open(S(":memory:"), NULL, &a), TW_OK);
    tw_str token = UNTOUCHED;
    tw_key *key = NULL;
    CHECK_STATUS(tw_authority_create_token(a, S(JANE), S(JANE), S("{\"lifetime\":\"1000000h\"}"),
                                           S(""), &token, &key),
                 TW_LIFETIME_TOO_LONG);
    body = www = UNTOUCHED;
    CHECK_STATUS(tw_last_error_answer(NULL, &status, &body, &www), TW_OK);
    CHECK(status == 400);
    CHECK(body.ptr != NULL && strstr(body.ptr, "\"message\":\"Failed to validate create API key "
                                               "request.\"") != NULL);
    CHECK(www.ptr != NULL && www.len == 0);
    tw_str_free(body);
    tw_str_free(www);
    /* A bad allow-list entry is the core's refusal, with Coder's message, not bad JSON. */
    CHECK_STATUS(tw_authority_create_token(a, S(JANE), S(JANE),
                                           S("{\"allow_list\":[\"workspace:nope\"]}"), S(""),
                                           &token, &key),
                 TW_INVALID_ALLOW_LIST);
    message = UNTOUCHED;
    CHECK_STATUS(tw_last_error_message(&message), TW_OK);
    CHECK(str_eq(message, S("Failed to create API key.")));
    tw_str_free(message);
    CHECK_STATUS(tw_authority_create_token(a, S(JANE), S(JANE), S("{\"allow_list\":[7]}"),
                                           S(""), &token, &key),
                 TW_INVALID_ALLOW_LIST);
    CHECK_STATUS(tw_authority_create_token(a, S(JANE), S(JANE),
                                           S("{\"allow_list\":[{\"type\":\"*\",\"id\":\"*\"}]}"),
                                           S(""), &token, &key),
                 TW_OK);
    tw_str_free(token);
    tw_key_free(key);
    token = UNTOUCHED;
    key = NULL;
    CHECK_STATUS(tw_authority_create_token(a, S(BOB), S(JANE), "", 0, S(""), &token, &key),
                 TW_FORBIDDEN);
    body = www = UNTOUCHED;
    CHECK_STATUS(tw_last_error_answer(NULL, &status, &body, &www), TW_OK);
    CHECK(status == 403);
    tw_str_free(body);
    tw_str_free(www);
    tw_authority_free(a);

    /* The ABI's own failures have a detail but no message of Coder's. */
    CHECK_STATUS(tw_parse(NULL, 0, &token, &token), TW_NULL_ARGUMENT);
    message = UNTOUCHED;
    CHECK_STATUS(tw_last_error_message(&message), TW_OK);
    CHECK(message.ptr != NULL && message.len == 0);
    tw_str_free(message);
    body = www = UNTOUCHED;
    CHECK_STATUS(tw_last_error_answer(NULL, &status, &body, &www), TW_OK);
    CHECK(status == 400);
    CHECK(strstr(body.ptr, "argument `token` is NULL") != NULL);
    tw_str_free(body);
    tw_str_free(www);

    /* NULL outs are refused, and then the failure is still the one before. */
    CHECK_STATUS(tw_last_error_answer(NULL, NULL, &body, &www), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_last_error_answer(NULL, &status, NULL, &www), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_last_error_answer(NULL, &status, &body, NULL), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_last_error_message(NULL), TW_NULL_ARGUMENT);
    CHECK(detail_is("argument `token` is NULL"));
}

int main(void) {
    test_status_names();
    test_strings();
    test_generate();
    test_parse();
    test_parse_strict();
    test_hash();
    test_duration();
    test_key();
    test_settings();
    test_settings_sources();
    test_key_fields();
    test_verify();
    test_authority();
    test_postgres();
    test_extract();
    test_last_error_answer();
    test_lengths();
#ifdef TOKENWARD_FFI_TEST
    test_panic();
#endif
    if (failures) {
        fprintf(stderr, "%d of %d checks failed\n", failures, checks);
        return 1;
    }
    printf("all %d checks passed\n", checks);
    return 0;
}
