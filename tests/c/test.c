/* Tests of the C ABI (include/tokenward.h): every exported function, its bad input, and the
 * check vectors of tests/vectors/check.json (as tests/c/check_vectors.h). Run by
 * scripts/test.sh plain, under ASan/UBSan and under valgrind; see tests/c/Makefile. */

#include <stdio.h>
#include <string.h>

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

/* One check.json case through tw_verify_record and every verdict getter. */
static void run_case(const struct check_case *c) {
    int before = failures;
    tw_key *key = NULL;
    if (c->record != NULL) CHECK_STATUS(tw_key_from_json(c->record, c->record_len, &key), TW_OK);
    tw_settings *settings = NULL;
    CHECK_STATUS(tw_settings_from_json(c->settings, c->settings_len, &settings), TW_OK);
    tw_verdict *verdict = NULL;
    CHECK_STATUS(tw_verify_record(c->presented, c->presented_len, key, settings, c->now,
                                  c->remote_addr, c->remote_addr_len, &verdict),
                 c->code);
    CHECK(verdict != NULL);
    if (verdict != NULL) {
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
    }
    tw_verdict_free(verdict);
    tw_settings_free(settings);
    tw_key_free(key);
    if (failures != before) fprintf(stderr, "  in check.json case %s\n", c->name);
}

static void test_verify(void) {
    size_t n = sizeof CHECK_CASES / sizeof CHECK_CASES[0];
    for (size_t i = 0; i < n; i++) run_case(&CHECK_CASES[i]);
    printf("check.json: %zu cases\n", n);

    /* Bad input writes no verdict. */
    tw_verdict *verdict = NULL;
    CHECK_STATUS(tw_verify_record(NULL, 0, NULL, NULL, 0, S(""), &verdict), TW_NULL_ARGUMENT);
    CHECK(detail_is("argument `presented` is NULL"));
    CHECK_STATUS(tw_verify_record(S("x"), NULL, NULL, 0, NULL, 0, &verdict), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_verify_record(S("x"), NULL, NULL, 0, S(""), NULL), TW_NULL_ARGUMENT);
    CHECK_STATUS(tw_verify_record(S("\xff"), NULL, NULL, 0, S(""), &verdict), TW_INVALID_UTF8);
    CHECK_STATUS(tw_verify_record(S("x"), NULL, NULL, 0, S("\xff"), &verdict), TW_INVALID_UTF8);
    CHECK_STATUS(tw_verify_record(S("x"), NULL, NULL, INT64_MAX, S(""), &verdict),
                 TW_INVALID_TIMESTAMP);
    CHECK(verdict == NULL);

    /* A rejection with default settings (NULL) still writes a verdict. */
    CHECK_STATUS(tw_verify_record("", 0, NULL, NULL, 0, "", 0, &verdict), TW_MISSING);
    CHECK(verdict != NULL);
    tw_verdict_free(verdict);

    /* Getters refuse NULL. */
    tw_str s = UNTOUCHED;
    tw_update update;
    tw_status code;
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
    CHECK_STATUS(tw_verify_record("", 0, NULL, NULL, 0, "", 0, &verdict), TW_MISSING);
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

int main(void) {
    test_status_names();
    test_strings();
    test_generate();
    test_parse();
    test_hash();
    test_duration();
    test_key();
    test_settings();
    test_verify();
    if (failures) {
        fprintf(stderr, "%d of %d checks failed\n", failures, checks);
        return 1;
    }
    printf("all %d checks passed\n", checks);
    return 0;
}
