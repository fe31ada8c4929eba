// The Go binding's C helpers: see gotw.h.

#include <pthread.h>
#include <stdlib.h>

#include "gotw.h"

#define KEY(address) ((const tw_key *)(address))
#define SETTINGS(address) ((const tw_settings *)(address))
#define AUTHORITY(address) ((const tw_authority *)(address))

// Memory for a few bytes has run out: stop, as Rust and Go do.
static void *must(void *p) {
	if (p == NULL) {
		abort();
	}
	return p;
}

tw_status gotw_fail(tw_status status, const tw_settings *settings, gotw_error *e) {
	if (status == TW_OK) {
		return status;
	}
	e->status = status;
	// Nothing below replaces the thread's last failure: reading it is not a failure.
	tw_last_error_detail(&e->detail);
	tw_last_error_message(&e->message);
	if (tw_last_error_answer(settings, &e->http, &e->body, &e->www) != TW_OK) {
		e->http = tw_status_http(status);
	}
	return status;
}

// ---------------------------------------------------------------------------------------------
// The calling thread's verdict, made on its first verifying call and freed when it exits.

static pthread_key_t verdict_key;
static pthread_once_t verdict_once = PTHREAD_ONCE_INIT;
static __thread tw_verdict *thread_verdict;

// How many verdicts threads made and freed, for the tests (gotw_verdict_counts): once each
// per thread, so the count costs nothing per call.
static uint64_t verdicts_made, verdicts_freed;

static void free_verdict(void *verdict) {
	tw_verdict_free(verdict);
	__atomic_fetch_add(&verdicts_freed, 1, __ATOMIC_RELAXED);
}

bool gotw_thread_verdict_has_key(void) {
	tw_key *key = NULL;
	if (thread_verdict == NULL || tw_verdict_key(thread_verdict, &key) != TW_OK) {
		return false;
	}
	tw_key_free(key);
	return true;
}

void gotw_verdict_counts(uint64_t *made, uint64_t *freed) {
	*made = __atomic_load_n(&verdicts_made, __ATOMIC_RELAXED);
	*freed = __atomic_load_n(&verdicts_freed, __ATOMIC_RELAXED);
}

static void make_verdict_key(void) {
	if (pthread_key_create(&verdict_key, free_verdict) != 0) {
		abort();
	}
}

static tw_verdict *this_thread_verdict(void) {
	if (thread_verdict == NULL) {
		pthread_once(&verdict_once, make_verdict_key);
		if (tw_verdict_new(&thread_verdict) != TW_OK) {
			abort(); // out of memory
		}
		pthread_setspecific(verdict_key, thread_verdict);
		__atomic_fetch_add(&verdicts_made, 1, __ATOMIC_RELAXED);
	}
	return thread_verdict;
}

// ---------------------------------------------------------------------------------------------
// Verifying calls.

// Reads what a verifying call answered into *r: the refresh when it verified, else the
// failure. When the verdict holds Coder's answer (a rejection, or a store failure in
// tw_authority_authenticate), its HTTP answer replaces the thread's: it was made with the
// settings the check used (an authority's own).
static void read_answer(tw_status status, const tw_verdict *verdict, const tw_settings *settings,
		gotw_result *r) {
	r->status = status;
	if (status == TW_OK) {
		tw_update update;
		if (tw_verdict_update(verdict, &update) != TW_OK || !update.present) {
			return;
		}
		r->present = true;
		r->last_used_micros = update.last_used_micros;
		r->expires_at_micros = update.expires_at_micros;
		r->previous_expires_at_micros = update.previous_expires_at_micros;
		gotw_rest *rest = must(calloc(1, sizeof *rest));
		tw_verdict_update_ip(verdict, &rest->ip);
		r->rest = (uintptr_t)rest;
		return;
	}
	gotw_rest *rest = must(calloc(1, sizeof *rest));
	r->rest = (uintptr_t)rest;
	gotw_fail(status, settings, &rest->err);
	tw_status held;
	if (tw_verdict_code(verdict, &held) != TW_OK || held != status) {
		return; // bad input: the verdict is empty
	}
	uint16_t http = 0;
	tw_str body = {NULL, 0}, www = {NULL, 0};
	if (tw_verdict_http_status(verdict, &http) == TW_OK && tw_verdict_body(verdict, &body) == TW_OK &&
			tw_verdict_www_authenticate(verdict, &www) == TW_OK) {
		tw_str_free(rest->err.body);
		tw_str_free(rest->err.www);
		rest->err.http = http;
		rest->err.body = body;
		rest->err.www = www;
		return;
	}
	tw_str_free(body);
	tw_str_free(www);
}

// After a verified authentication: the stored key, or the failure to read it.
static void read_key(const tw_verdict *verdict, gotw_result *r) {
	if (r->status != TW_OK) {
		return;
	}
	tw_key *key = NULL;
	tw_status status = tw_verdict_key(verdict, &key);
	if (status == TW_OK) {
		r->key = (uintptr_t)key;
		return;
	}
	gotw_rest *rest = (gotw_rest *)r->rest;
	if (rest == NULL) {
		rest = must(calloc(1, sizeof *rest));
		r->rest = (uintptr_t)rest;
	}
	tw_str_free(rest->ip);
	rest->ip.ptr = NULL;
	r->present = false;
	r->status = status;
	gotw_fail(status, NULL, &rest->err);
}

void gotw_take(uintptr_t address, gotw_rest *out) {
	gotw_rest *rest = (gotw_rest *)address;
	*out = *rest;
	free(rest);
}

void gotw_verify_record(const char *presented, size_t presented_len, uintptr_t key,
		uintptr_t settings, int64_t now_micros, const char *remote_addr,
		size_t remote_addr_len, gotw_result *result) {
	tw_verdict *verdict = this_thread_verdict();
	tw_status status = tw_verify_record(presented, presented_len, KEY(key), SETTINGS(settings),
			now_micros, remote_addr, remote_addr_len, verdict);
	read_answer(status, verdict, SETTINGS(settings), result);
}

void gotw_authenticate(uintptr_t authority, const char *presented, size_t presented_len,
		const char *remote_addr, size_t remote_addr_len, gotw_result *result) {
	tw_verdict *verdict = this_thread_verdict();
	tw_status status = tw_authority_authenticate(AUTHORITY(authority), presented,
			presented_len, remote_addr, remote_addr_len, verdict);
	read_answer(status, verdict, NULL, result);
	read_key(verdict, result);
	tw_verdict_clear(verdict); // else the thread's verdict keeps the key until its next call
}

// Headers this many or fewer are laid out on the stack.
#define STACK_HEADERS 16

// The tw_header array over buf and lens (see gotw.h): stack when it fits, else malloc'd (the
// caller frees what is not stack).
static tw_header *lay_out(const char *buf, const size_t *lens, size_t count, tw_header *stack) {
	tw_header *headers = stack;
	if (count > STACK_HEADERS) {
		headers = must(malloc(count * sizeof *headers));
	}
	for (size_t i = 0; i < count; i++) {
		headers[i].name = buf;
		headers[i].name_len = lens[2 * i];
		buf += lens[2 * i];
		headers[i].value = buf;
		headers[i].value_len = lens[2 * i + 1];
		buf += lens[2 * i + 1];
	}
	return headers;
}

tw_status gotw_extract(const char *buf, const size_t *lens, size_t count, const char *query,
		size_t query_len, tw_str *out_token, uint32_t *out_source, gotw_error *e) {
	tw_header stack[STACK_HEADERS];
	tw_header *headers = lay_out(buf, lens, count, stack);
	tw_status status = tw_extract_token(headers, count, query, query_len, out_token, out_source);
	gotw_fail(status, NULL, e);
	if (headers != stack) {
		free(headers);
	}
	return status;
}

void gotw_middleware(uintptr_t authority, const char *buf, const size_t *lens, size_t count,
		const char *query, size_t query_len, const char *remote_addr, size_t remote_addr_len,
		gotw_result *result) {
	tw_header stack[STACK_HEADERS];
	tw_header *headers = lay_out(buf, lens, count, stack);
	tw_str token = {NULL, 0};
	uint32_t source = 0;
	tw_status status = tw_extract_token(headers, count, query, query_len, &token, &source);
	if (headers != stack) {
		free(headers);
	}
	// No token (TW_MISSING): authenticating "" gives Coder's answer to it, with the
	// authority's settings.
	const char *presented = status == TW_OK ? token.ptr : "";
	size_t presented_len = status == TW_OK ? token.len : 0;
	tw_verdict *verdict = this_thread_verdict();
	status = tw_authority_authenticate(AUTHORITY(authority), presented, presented_len,
			remote_addr, remote_addr_len, verdict);
	tw_str_free(token); // wiped
	read_answer(status, verdict, NULL, result);
	read_key(verdict, result);
	tw_verdict_clear(verdict); // else the thread's verdict keeps the key until its next call
}

// ---------------------------------------------------------------------------------------------
// Handles.

void gotw_key_free(uintptr_t key) {
	tw_key_free((tw_key *)key);
}

void gotw_settings_free(uintptr_t settings) {
	tw_settings_free((tw_settings *)settings);
}

void gotw_authority_free(uintptr_t authority) {
	tw_authority_free((tw_authority *)authority);
}

// ---------------------------------------------------------------------------------------------
// Every other call.

tw_status gotw_parse(const char *token, size_t token_len, tw_str *id, tw_str *secret,
		gotw_error *e) {
	return gotw_fail(tw_parse(token, token_len, id, secret), NULL, e);
}

tw_status gotw_parse_strict(const char *token, size_t token_len, tw_str *id, tw_str *secret,
		gotw_error *e) {
	return gotw_fail(tw_parse_strict(token, token_len, id, secret), NULL, e);
}

tw_status gotw_hash_secret(const char *secret, size_t secret_len, uint8_t *out, size_t out_len,
		gotw_error *e) {
	return gotw_fail(tw_hash_secret(secret, secret_len, out, out_len), NULL, e);
}

tw_status gotw_generate(tw_str *out, gotw_error *e) {
	return gotw_fail(tw_generate(out), NULL, e);
}

tw_status gotw_duration_parse(const char *text, size_t text_len, int64_t *out_nanos,
		gotw_error *e) {
	return gotw_fail(tw_duration_parse(text, text_len, out_nanos), NULL, e);
}

tw_status gotw_duration_format(int64_t nanos, tw_str *out, gotw_error *e) {
	return gotw_fail(tw_duration_format(nanos, out), NULL, e);
}

// Writes a new handle's address on success.
#define OUT(type, call, settings)                                      \
	do {                                                            \
		type *handle = NULL;                                    \
		tw_status status = gotw_fail((call), (settings), e);    \
		if (status == TW_OK) {                                  \
			*out = (uintptr_t)handle;                       \
		}                                                       \
		return status;                                          \
	} while (0)

tw_status gotw_settings_default(uintptr_t *out, gotw_error *e) {
	OUT(tw_settings, tw_settings_default(&handle), NULL);
}

tw_status gotw_settings_from_env(uintptr_t *out, gotw_error *e) {
	OUT(tw_settings, tw_settings_from_env(&handle), NULL);
}

tw_status gotw_settings_from_json(const char *json, size_t json_len, uintptr_t *out,
		gotw_error *e) {
	OUT(tw_settings, tw_settings_from_json(json, json_len, &handle), NULL);
}

tw_status gotw_settings_set(uintptr_t settings, const char *name, size_t name_len,
		const char *value, size_t value_len, gotw_error *e) {
	return gotw_fail(tw_settings_set((tw_settings *)settings, name, name_len, value, value_len),
			NULL, e);
}

tw_status gotw_settings_to_json(uintptr_t settings, tw_str *out, gotw_error *e) {
	return gotw_fail(tw_settings_to_json(SETTINGS(settings), out), NULL, e);
}

tw_status gotw_key_from_json(const char *json, size_t json_len, uintptr_t *out, gotw_error *e) {
	OUT(tw_key, tw_key_from_json(json, json_len, &handle), NULL);
}

tw_status gotw_key_new(const char *id, size_t id_len, const uint8_t *hashed_secret,
		size_t hashed_secret_len, const char *user_id, size_t user_id_len,
		const char *login_type, size_t login_type_len, int64_t created_at_micros,
		int64_t expires_at_micros, int64_t last_used_micros, int64_t lifetime_seconds,
		const char *token_name, size_t token_name_len, const char *ip_address,
		size_t ip_address_len, uintptr_t *out, gotw_error *e) {
	tw_key_fields fields = {
		.id = id,
		.id_len = id_len,
		.hashed_secret = hashed_secret,
		.hashed_secret_len = hashed_secret_len,
		.user_id = user_id,
		.user_id_len = user_id_len,
		.login_type = login_type,
		.login_type_len = login_type_len,
		.created_at_micros = created_at_micros,
		.expires_at_micros = expires_at_micros,
		.last_used_micros = last_used_micros,
		.lifetime_seconds = lifetime_seconds,
		.token_name = token_name,
		.token_name_len = token_name_len,
		.ip_address = ip_address,
		.ip_address_len = ip_address_len,
	};
	OUT(tw_key, tw_key_new(&fields, &handle), NULL);
}

tw_status gotw_key_text(uintptr_t address, int field, tw_str *out, gotw_error *e) {
	const tw_key *key = KEY(address);
	tw_status status;
	switch (field) {
	case GOTW_KEY_ID: status = tw_key_id(key, out); break;
	case GOTW_KEY_USER_ID: status = tw_key_user_id(key, out); break;
	case GOTW_KEY_LOGIN_TYPE: status = tw_key_login_type(key, out); break;
	case GOTW_KEY_TOKEN_NAME: status = tw_key_token_name(key, out); break;
	case GOTW_KEY_IP_ADDRESS: status = tw_key_ip_address(key, out); break;
	case GOTW_KEY_JSON: status = tw_key_to_json(key, out); break;
	case GOTW_KEY_STORAGE_JSON: status = tw_key_to_storage_json(key, out); break;
	default: status = tw_key_id(NULL, out); break; // TW_NULL_ARGUMENT: no such column
	}
	return gotw_fail(status, NULL, e);
}

tw_status gotw_key_int(uintptr_t address, int field, int64_t *out, gotw_error *e) {
	const tw_key *key = KEY(address);
	tw_status status;
	switch (field) {
	case GOTW_KEY_EXPIRES_AT: status = tw_key_expires_at(key, out); break;
	case GOTW_KEY_LAST_USED: status = tw_key_last_used(key, out); break;
	case GOTW_KEY_CREATED_AT: status = tw_key_created_at(key, out); break;
	case GOTW_KEY_UPDATED_AT: status = tw_key_updated_at(key, out); break;
	case GOTW_KEY_LIFETIME_SECONDS: status = tw_key_lifetime_seconds(key, out); break;
	default: status = tw_key_expires_at(NULL, out); break; // TW_NULL_ARGUMENT: no such column
	}
	return gotw_fail(status, NULL, e);
}

tw_status gotw_key_hashed_secret(uintptr_t key, uint8_t *out, size_t out_len,
		size_t *out_len_needed, gotw_error *e) {
	return gotw_fail(tw_key_hashed_secret(KEY(key), out, out_len, out_len_needed), NULL, e);
}

tw_status gotw_authority_open(const char *url, size_t url_len, uintptr_t settings,
		uintptr_t *out, gotw_error *e) {
	OUT(tw_authority, tw_authority_open(url, url_len, SETTINGS(settings), &handle),
			SETTINGS(settings));
}

tw_status gotw_authority_create_token(uintptr_t authority, const char *actor_json,
		size_t actor_json_len, const char *target_json, size_t target_json_len,
		const char *request_json, size_t request_json_len, const char *remote_addr,
		size_t remote_addr_len, tw_str *out_token, uintptr_t *out, gotw_error *e) {
	OUT(tw_key, tw_authority_create_token(AUTHORITY(authority), actor_json, actor_json_len,
			target_json, target_json_len, request_json, request_json_len, remote_addr,
			remote_addr_len, out_token, &handle), NULL);
}

tw_status gotw_authority_create_session(uintptr_t authority, const char *user_json,
		size_t user_json_len, const char *login_type, size_t login_type_len,
		const char *remote_addr, size_t remote_addr_len, tw_str *out_token, uintptr_t *out,
		gotw_error *e) {
	OUT(tw_key, tw_authority_create_session(AUTHORITY(authority), user_json, user_json_len,
			login_type, login_type_len, remote_addr, remote_addr_len, out_token, &handle),
			NULL);
}

tw_status gotw_authority_create_session_key(uintptr_t authority, const char *user_json,
		size_t user_json_len, const char *remote_addr, size_t remote_addr_len,
		tw_str *out_token, uintptr_t *out, gotw_error *e) {
	OUT(tw_key, tw_authority_create_session_key(AUTHORITY(authority), user_json, user_json_len,
			remote_addr, remote_addr_len, out_token, &handle), NULL);
}

tw_status gotw_authority_list_tokens(uintptr_t authority, const char *actor_json,
		size_t actor_json_len, const char *options_json, size_t options_json_len,
		tw_str *out, gotw_error *e) {
	return gotw_fail(tw_authority_list_tokens(AUTHORITY(authority), actor_json, actor_json_len,
			options_json, options_json_len, out), NULL, e);
}

tw_status gotw_authority_expire(uintptr_t authority, const char *actor_json,
		size_t actor_json_len, const char *id, size_t id_len, gotw_error *e) {
	return gotw_fail(tw_authority_expire(AUTHORITY(authority), actor_json, actor_json_len, id,
			id_len), NULL, e);
}

tw_status gotw_authority_delete(uintptr_t authority, const char *actor_json,
		size_t actor_json_len, const char *id, size_t id_len, gotw_error *e) {
	return gotw_fail(tw_authority_delete(AUTHORITY(authority), actor_json, actor_json_len, id,
			id_len), NULL, e);
}

tw_status gotw_authority_purge(uintptr_t authority, uint64_t *out_count, gotw_error *e) {
	return gotw_fail(tw_authority_purge(AUTHORITY(authority), out_count), NULL, e);
}

tw_status gotw_authority_token_config(uintptr_t authority, const char *user_json,
		size_t user_json_len, int64_t *out_max_lifetime_nanos, gotw_error *e) {
	return gotw_fail(tw_authority_token_config(AUTHORITY(authority), user_json, user_json_len,
			out_max_lifetime_nanos), NULL, e);
}

tw_status gotw_authority_get_key(uintptr_t authority, const char *actor_json,
		size_t actor_json_len, const char *id, size_t id_len, uintptr_t *out, gotw_error *e) {
	OUT(tw_key, tw_authority_get_key(AUTHORITY(authority), actor_json, actor_json_len, id,
			id_len, &handle), NULL);
}

tw_status gotw_authority_find_token(uintptr_t authority, const char *actor_json,
		size_t actor_json_len, const char *user_id, size_t user_id_len,
		const char *name_or_id, size_t name_or_id_len, uintptr_t *out, gotw_error *e) {
	OUT(tw_key, tw_authority_find_token(AUTHORITY(authority), actor_json, actor_json_len,
			user_id, user_id_len, name_or_id, name_or_id_len, &handle), NULL);
}

tw_status gotw_authority_delete_user_keys(uintptr_t authority, const char *user_id,
		size_t user_id_len, uint64_t *out_count, gotw_error *e) {
	return gotw_fail(tw_authority_delete_user_keys(AUTHORITY(authority), user_id, user_id_len,
			out_count), NULL, e);
}
