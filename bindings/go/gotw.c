// The Go binding's C helpers: see gotw.h.

#include <stdlib.h>

#include "gotw.h"

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

// Reads what a verifying call answered into *a: the refresh when it verified, else the
// failure. When the verdict holds Coder's answer (a rejection, or a store failure in
// tw_authority_authenticate), its HTTP answer replaces the thread's: it was made with the
// settings the check used (an authority's own).
static void read_answer(tw_status status, const tw_verdict *verdict, const tw_settings *settings,
		gotw_answer *a) {
	a->err.status = status;
	if (status == TW_OK) {
		tw_verdict_update(verdict, &a->update);
		if (a->update.present) {
			tw_verdict_update_ip(verdict, &a->ip);
		}
		return;
	}
	gotw_fail(status, settings, &a->err);
	tw_status held;
	if (tw_verdict_code(verdict, &held) != TW_OK || held != status) {
		return; // bad input: the verdict is empty
	}
	uint16_t http = 0;
	tw_str body = {NULL, 0}, www = {NULL, 0};
	if (tw_verdict_http_status(verdict, &http) == TW_OK && tw_verdict_body(verdict, &body) == TW_OK &&
			tw_verdict_www_authenticate(verdict, &www) == TW_OK) {
		tw_str_free(a->err.body);
		tw_str_free(a->err.www);
		a->err.http = http;
		a->err.body = body;
		a->err.www = www;
		return;
	}
	tw_str_free(body);
	tw_str_free(www);
}

// After a verified call: the stored key, or the failure to read it.
static void read_key(const tw_verdict *verdict, gotw_answer *a, tw_key **key) {
	if (a->err.status != TW_OK || key == NULL) {
		return;
	}
	tw_status status = tw_verdict_key(verdict, key);
	if (status != TW_OK) {
		tw_str_free(a->ip);
		a->ip.ptr = NULL;
		a->update.present = false;
		gotw_fail(status, NULL, &a->err);
	}
}

void gotw_verify_record(const char *presented, size_t presented_len, const tw_key *key,
		const tw_settings *settings, int64_t now_micros, const char *remote_addr,
		size_t remote_addr_len, tw_verdict *verdict, gotw_answer *answer) {
	tw_status status = tw_verify_record(presented, presented_len, key, settings, now_micros,
			remote_addr, remote_addr_len, verdict);
	read_answer(status, verdict, settings, answer);
}

void gotw_authenticate(const tw_authority *authority, const char *presented,
		size_t presented_len, const char *remote_addr, size_t remote_addr_len,
		tw_verdict *verdict, gotw_answer *answer, tw_key **key) {
	tw_status status = tw_authority_authenticate(authority, presented, presented_len,
			remote_addr, remote_addr_len, verdict);
	read_answer(status, verdict, NULL, answer);
	read_key(verdict, answer, key);
}

// Headers this many or fewer are laid out on the stack.
#define STACK_HEADERS 16

// The tw_header array over buf and lens (see gotw.h): stack when it fits, else malloc'd (the
// caller frees what is not stack).
static tw_header *lay_out(const char *buf, const size_t *lens, size_t count, tw_header *stack) {
	tw_header *headers = stack;
	if (count > STACK_HEADERS) {
		headers = malloc(count * sizeof *headers);
		if (headers == NULL) {
			abort(); // as Rust and Go do when memory runs out
		}
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
	// Read before free() can run anything else on this thread.
	gotw_fail(status, NULL, e);
	if (headers != stack) {
		free(headers);
	}
	return status;
}

void gotw_middleware(const tw_authority *authority, const char *buf, const size_t *lens,
		size_t count, const char *query, size_t query_len, const char *remote_addr,
		size_t remote_addr_len, tw_verdict *verdict, gotw_answer *answer, tw_key **key) {
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
	status = tw_authority_authenticate(authority, presented, presented_len, remote_addr,
			remote_addr_len, verdict);
	tw_str_free(token); // wiped
	read_answer(status, verdict, NULL, answer);
	read_key(verdict, answer, key);
}

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

tw_status gotw_settings_default(tw_settings **out, gotw_error *e) {
	return gotw_fail(tw_settings_default(out), NULL, e);
}

tw_status gotw_settings_from_env(tw_settings **out, gotw_error *e) {
	return gotw_fail(tw_settings_from_env(out), NULL, e);
}

tw_status gotw_settings_from_json(const char *json, size_t json_len, tw_settings **out,
		gotw_error *e) {
	return gotw_fail(tw_settings_from_json(json, json_len, out), NULL, e);
}

tw_status gotw_settings_set(tw_settings *settings, const char *name, size_t name_len,
		const char *value, size_t value_len, gotw_error *e) {
	return gotw_fail(tw_settings_set(settings, name, name_len, value, value_len), NULL, e);
}

tw_status gotw_settings_to_json(const tw_settings *settings, tw_str *out, gotw_error *e) {
	return gotw_fail(tw_settings_to_json(settings, out), NULL, e);
}

tw_status gotw_key_from_json(const char *json, size_t json_len, tw_key **out, gotw_error *e) {
	return gotw_fail(tw_key_from_json(json, json_len, out), NULL, e);
}

tw_status gotw_key_new(const char *id, size_t id_len, const uint8_t *hashed_secret,
		size_t hashed_secret_len, const char *user_id, size_t user_id_len,
		const char *login_type, size_t login_type_len, int64_t created_at_micros,
		int64_t expires_at_micros, int64_t last_used_micros, int64_t lifetime_seconds,
		const char *token_name, size_t token_name_len, const char *ip_address,
		size_t ip_address_len, tw_key **out, gotw_error *e) {
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
	return gotw_fail(tw_key_new(&fields, out), NULL, e);
}

tw_status gotw_key_text(const tw_key *key, int field, tw_str *out, gotw_error *e) {
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

tw_status gotw_key_int(const tw_key *key, int field, int64_t *out, gotw_error *e) {
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

tw_status gotw_key_hashed_secret(const tw_key *key, uint8_t *out, size_t out_len,
		size_t *out_len_needed, gotw_error *e) {
	return gotw_fail(tw_key_hashed_secret(key, out, out_len, out_len_needed), NULL, e);
}

tw_status gotw_authority_open(const char *url, size_t url_len, const tw_settings *settings,
		tw_authority **out, gotw_error *e) {
	return gotw_fail(tw_authority_open(url, url_len, settings, out), settings, e);
}

tw_status gotw_authority_create_token(const tw_authority *authority, const char *actor_json,
		size_t actor_json_len, const char *target_json, size_t target_json_len,
		const char *request_json, size_t request_json_len, const char *remote_addr,
		size_t remote_addr_len, tw_str *out_token, tw_key **out_key, gotw_error *e) {
	return gotw_fail(tw_authority_create_token(authority, actor_json, actor_json_len,
			target_json, target_json_len, request_json, request_json_len, remote_addr,
			remote_addr_len, out_token, out_key), NULL, e);
}

tw_status gotw_authority_create_session(const tw_authority *authority, const char *user_json,
		size_t user_json_len, const char *login_type, size_t login_type_len,
		const char *remote_addr, size_t remote_addr_len, tw_str *out_token,
		tw_key **out_key, gotw_error *e) {
	return gotw_fail(tw_authority_create_session(authority, user_json, user_json_len,
			login_type, login_type_len, remote_addr, remote_addr_len, out_token, out_key),
			NULL, e);
}

tw_status gotw_authority_create_session_key(const tw_authority *authority,
		const char *user_json, size_t user_json_len, const char *remote_addr,
		size_t remote_addr_len, tw_str *out_token, tw_key **out_key, gotw_error *e) {
	return gotw_fail(tw_authority_create_session_key(authority, user_json, user_json_len,
			remote_addr, remote_addr_len, out_token, out_key), NULL, e);
}

tw_status gotw_authority_list_tokens(const tw_authority *authority, const char *actor_json,
		size_t actor_json_len, const char *options_json, size_t options_json_len,
		tw_str *out, gotw_error *e) {
	return gotw_fail(tw_authority_list_tokens(authority, actor_json, actor_json_len,
			options_json, options_json_len, out), NULL, e);
}

tw_status gotw_authority_expire(const tw_authority *authority, const char *actor_json,
		size_t actor_json_len, const char *id, size_t id_len, gotw_error *e) {
	return gotw_fail(tw_authority_expire(authority, actor_json, actor_json_len, id, id_len),
			NULL, e);
}

tw_status gotw_authority_delete(const tw_authority *authority, const char *actor_json,
		size_t actor_json_len, const char *id, size_t id_len, gotw_error *e) {
	return gotw_fail(tw_authority_delete(authority, actor_json, actor_json_len, id, id_len),
			NULL, e);
}

tw_status gotw_authority_purge(const tw_authority *authority, uint64_t *out_count,
		gotw_error *e) {
	return gotw_fail(tw_authority_purge(authority, out_count), NULL, e);
}

tw_status gotw_authority_token_config(const tw_authority *authority, const char *user_json,
		size_t user_json_len, int64_t *out_max_lifetime_nanos, gotw_error *e) {
	return gotw_fail(tw_authority_token_config(authority, user_json, user_json_len,
			out_max_lifetime_nanos), NULL, e);
}

tw_status gotw_authority_get_key(const tw_authority *authority, const char *actor_json,
		size_t actor_json_len, const char *id, size_t id_len, tw_key **out_key,
		gotw_error *e) {
	return gotw_fail(tw_authority_get_key(authority, actor_json, actor_json_len, id, id_len,
			out_key), NULL, e);
}

tw_status gotw_authority_find_token(const tw_authority *authority, const char *actor_json,
		size_t actor_json_len, const char *user_id, size_t user_id_len,
		const char *name_or_id, size_t name_or_id_len, tw_key **out_key, gotw_error *e) {
	return gotw_fail(tw_authority_find_token(authority, actor_json, actor_json_len, user_id,
			user_id_len, name_or_id, name_or_id_len, out_key), NULL, e);
}

tw_status gotw_authority_delete_user_keys(const tw_authority *authority, const char *user_id,
		size_t user_id_len, uint64_t *out_count, gotw_error *e) {
	return gotw_fail(tw_authority_delete_user_keys(authority, user_id, user_id_len, out_count),
			NULL, e);
}
