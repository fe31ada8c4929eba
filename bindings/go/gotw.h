/*
 * The Go binding's C helpers (gotw.c), over include/tokenward.h.
 *
 * - The library keeps the detail, message and HTTP answer of a failed call per OS thread. A
 *   goroutine may move to another thread between two cgo calls, so each helper makes one
 *   library call and, when it fails, reads what the thread kept in the same C call
 *   (gotw_fail).
 * - Handles (tw_key, tw_settings, tw_authority) cross as addresses (uintptr_t), never as
 *   pointers: cgo checks every pointer argument whose type may hold pointers, an opaque struct
 *   included, on every call, and the addresses are C memory that Go only keeps and hands back.
 * - The verifying helpers answer into a gotw_result that holds no pointer (Go passes it from its
 *   stack, unchecked and without allocating), with a verdict of the calling thread's own
 *   (tw_verdict_new once per thread, freed when the thread exits): a verified token then costs
 *   one cgo call and no allocation. An authentication clears the verdict once it is read, so
 *   it does not keep the key until the thread's next call. Strings (a refresh's address, a failure) come in a
 *   gotw_rest block that Go takes with gotw_take.
 */

#ifndef GOTW_H
#define GOTW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tokenward.h>

/* A failed call: its status, Coder's HTTP answer (status, JSON body, WWW-Authenticate), and
 * the message and detail. Every string is library-owned (tw_str_free). */
typedef struct {
	tw_status status;
	uint16_t http;
	tw_str message;
	tw_str detail;
	tw_str body;
	tw_str www;
} gotw_error;

/* Reads the thread's last failure into *e when status is not TW_OK (settings, NULL for the
 * defaults, give the challenge's access URL); returns status. */
tw_status gotw_fail(tw_status status, const tw_settings *settings, gotw_error *e);

/* What a verifying call answered, without a pointer: the status; on success the refresh's
 * times (present says whether there is one) and, for an authentication, the stored key's
 * address (a tw_key the caller frees); rest, when not 0, is the address of a gotw_rest holding
 * the refresh's IP or the failure, for gotw_take. */
typedef struct {
	tw_status status;
	bool present;
	int64_t last_used_micros;
	int64_t expires_at_micros;
	int64_t previous_expires_at_micros;
	uintptr_t key;
	uintptr_t rest;
} gotw_result;

/* The strings of a verifying call's answer. */
typedef struct {
	tw_str ip;
	gotw_error err;
} gotw_rest;

/* Moves the gotw_rest at the address rest into *out and frees the block. */
void gotw_take(uintptr_t rest, gotw_rest *out);

/* Verifying calls, answered in the same C call. key and settings are addresses (0 for none). */
void gotw_verify_record(const char *presented, size_t presented_len, uintptr_t key,
		uintptr_t settings, int64_t now_micros, const char *remote_addr,
		size_t remote_addr_len, gotw_result *result);
void gotw_authenticate(uintptr_t authority, const char *presented, size_t presented_len,
		const char *remote_addr, size_t remote_addr_len, gotw_result *result);

/* The headers of a request for tw_extract_token, from Go memory that holds no Go pointer:
 * count pairs, the i-th name lens[2i] bytes and its value lens[2i+1] bytes, one after the
 * other in buf. */
tw_status gotw_extract(const char *buf, const size_t *lens, size_t count, const char *query,
		size_t query_len, tw_str *out_token, uint32_t *out_source, gotw_error *e);

/* What the middleware does per request, in one C call: extracts the token from the headers
 * (as gotw_extract) and the query, authenticates it (no token: authenticates "", Coder's
 * "missing"), and wipes it. No Go string of the token is made: Go passes the header bytes from a
 * pooled buffer it wipes after each request. */
void gotw_middleware(uintptr_t authority, const char *buf, const size_t *lens, size_t count,
		const char *query, size_t query_len, const char *remote_addr, size_t remote_addr_len,
		gotw_result *result);

/* How many threads' verdicts were made and freed so far (for the tests). */
void gotw_verdict_counts(uint64_t *made, uint64_t *freed);
/* Whether the calling thread's verdict holds a key (for the tests: it should not, once a call
 * has returned). */
bool gotw_thread_verdict_has_key(void);

/* Releases a handle by its address (0 is ignored). */
void gotw_key_free(uintptr_t key);
void gotw_settings_free(uintptr_t settings);
void gotw_authority_free(uintptr_t authority);

/* Every other call that can fail: the library function of the same name, then gotw_fail. A new
 * handle is written as its address. */
tw_status gotw_parse(const char *token, size_t token_len, tw_str *id, tw_str *secret,
		gotw_error *e);
tw_status gotw_parse_strict(const char *token, size_t token_len, tw_str *id, tw_str *secret,
		gotw_error *e);
tw_status gotw_hash_secret(const char *secret, size_t secret_len, uint8_t *out, size_t out_len,
		gotw_error *e);
tw_status gotw_generate(tw_str *out, gotw_error *e);
tw_status gotw_duration_parse(const char *text, size_t text_len, int64_t *out_nanos,
		gotw_error *e);
tw_status gotw_duration_format(int64_t nanos, tw_str *out, gotw_error *e);

tw_status gotw_settings_default(uintptr_t *out, gotw_error *e);
tw_status gotw_settings_from_env(uintptr_t *out, gotw_error *e);
tw_status gotw_settings_from_json(const char *json, size_t json_len, uintptr_t *out,
		gotw_error *e);
tw_status gotw_settings_set(uintptr_t settings, const char *name, size_t name_len,
		const char *value, size_t value_len, gotw_error *e);
tw_status gotw_settings_to_json(uintptr_t settings, tw_str *out, gotw_error *e);

tw_status gotw_key_from_json(const char *json, size_t json_len, uintptr_t *out, gotw_error *e);
/* tw_key_new, its tw_key_fields built here from the arguments (a NULL token_name or
 * ip_address takes the column default). */
tw_status gotw_key_new(const char *id, size_t id_len, const uint8_t *hashed_secret,
		size_t hashed_secret_len, const char *user_id, size_t user_id_len,
		const char *login_type, size_t login_type_len, int64_t created_at_micros,
		int64_t expires_at_micros, int64_t last_used_micros, int64_t lifetime_seconds,
		const char *token_name, size_t token_name_len, const char *ip_address,
		size_t ip_address_len, uintptr_t *out, gotw_error *e);
/* One text column of a key (GOTW_KEY_ID to GOTW_KEY_STORAGE_JSON), or one time (in
 * microseconds) or number column (GOTW_KEY_EXPIRES_AT to GOTW_KEY_LIFETIME_SECONDS). */
enum {
	GOTW_KEY_ID,
	GOTW_KEY_USER_ID,
	GOTW_KEY_LOGIN_TYPE,
	GOTW_KEY_TOKEN_NAME,
	GOTW_KEY_IP_ADDRESS,
	GOTW_KEY_JSON,
	GOTW_KEY_STORAGE_JSON,
	GOTW_KEY_EXPIRES_AT,
	GOTW_KEY_LAST_USED,
	GOTW_KEY_CREATED_AT,
	GOTW_KEY_UPDATED_AT,
	GOTW_KEY_LIFETIME_SECONDS
};
tw_status gotw_key_text(uintptr_t key, int field, tw_str *out, gotw_error *e);
tw_status gotw_key_int(uintptr_t key, int field, int64_t *out, gotw_error *e);
tw_status gotw_key_hashed_secret(uintptr_t key, uint8_t *out, size_t out_len,
		size_t *out_len_needed, gotw_error *e);

tw_status gotw_authority_open(const char *url, size_t url_len, uintptr_t settings,
		uintptr_t *out, gotw_error *e);
tw_status gotw_authority_create_token(uintptr_t authority, const char *actor_json,
		size_t actor_json_len, const char *target_json, size_t target_json_len,
		const char *request_json, size_t request_json_len, const char *remote_addr,
		size_t remote_addr_len, tw_str *out_token, uintptr_t *out_key, gotw_error *e);
tw_status gotw_authority_create_session(uintptr_t authority, const char *user_json,
		size_t user_json_len, const char *login_type, size_t login_type_len,
		const char *remote_addr, size_t remote_addr_len, tw_str *out_token,
		uintptr_t *out_key, gotw_error *e);
tw_status gotw_authority_create_session_key(uintptr_t authority, const char *user_json,
		size_t user_json_len, const char *remote_addr, size_t remote_addr_len,
		tw_str *out_token, uintptr_t *out_key, gotw_error *e);
tw_status gotw_authority_list_tokens(uintptr_t authority, const char *actor_json,
		size_t actor_json_len, const char *options_json, size_t options_json_len,
		tw_str *out, gotw_error *e);
tw_status gotw_authority_expire(uintptr_t authority, const char *actor_json,
		size_t actor_json_len, const char *id, size_t id_len, gotw_error *e);
tw_status gotw_authority_delete(uintptr_t authority, const char *actor_json,
		size_t actor_json_len, const char *id, size_t id_len, gotw_error *e);
tw_status gotw_authority_purge(uintptr_t authority, uint64_t *out_count, gotw_error *e);
tw_status gotw_authority_token_config(uintptr_t authority, const char *user_json,
		size_t user_json_len, int64_t *out_max_lifetime_nanos, gotw_error *e);
tw_status gotw_authority_get_key(uintptr_t authority, const char *actor_json,
		size_t actor_json_len, const char *id, size_t id_len, uintptr_t *out_key,
		gotw_error *e);
tw_status gotw_authority_find_token(uintptr_t authority, const char *actor_json,
		size_t actor_json_len, const char *user_id, size_t user_id_len,
		const char *name_or_id, size_t name_or_id_len, uintptr_t *out_key, gotw_error *e);
tw_status gotw_authority_delete_user_keys(uintptr_t authority, const char *user_id,
		size_t user_id_len, uint64_t *out_count, gotw_error *e);

#endif /* GOTW_H */
