/* The C ABI's handles shared across threads, the way an attacker would try them: one
 * tw_authority and one tw_key used by many threads at once, each thread with its own
 * tw_verdict, on the real clock; and a key expired or deleted while other threads keep
 * presenting its token is refused by every call that starts after the expire returned.
 * Run over ":memory:" and a SQLite file by scripts/test.sh (tests/c/Makefile). */

#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tokenward.h"

#define THREADS 8
#define ROUNDS 200

static atomic_int failures;

#define FAIL(...)                                                              \
    do {                                                                       \
        atomic_fetch_add(&failures, 1);                                        \
        fprintf(stderr, __VA_ARGS__);                                          \
        fputc('\n', stderr);                                                   \
    } while (0)

#define S(lit) (lit), (sizeof(lit) - 1)
#define OWNER "{\"id\":\"root\",\"roles\":[\"owner\"]}"

static tw_authority *authority;

/* Phase 1: each thread mints tokens for its own user and authenticates them, all at once. */
static void *mint_and_authenticate(void *arg) {
    int n = (int)(size_t)arg;
    char user[64];
    int len = snprintf(user, sizeof user, "{\"id\":\"user-%d\",\"roles\":[]}", n);
    tw_verdict *verdict = NULL;
    if (tw_verdict_new(&verdict) != TW_OK) {
        FAIL("thread %d: tw_verdict_new", n);
        return NULL;
    }
    for (int round = 0; round < ROUNDS / 10; round++) {
        tw_str token = {NULL, 0};
        tw_key *key = NULL;
        tw_status status = tw_authority_create_token(authority, user, (size_t)len, user,
                                                     (size_t)len, "", 0, S("203.0.113.7"),
                                                     &token, &key);
        if (status != TW_OK) {
            FAIL("thread %d: create: %s", n, tw_status_name(status));
            continue;
        }
        for (int i = 0; i < 10; i++) {
            status = tw_authority_authenticate(authority, token.ptr, token.len,
                                               S("203.0.113.7"), verdict);
            if (status != TW_OK) FAIL("thread %d: authenticate: %s", n, tw_status_name(status));
        }
        tw_key_free(key);
        tw_str_free(token);
    }
    tw_verdict_free(verdict);
    return NULL;
}

/* Phase 2: the shared token, and whether its expire (or delete) has returned. */
static tw_str shared_token;
static atomic_int revoked;
static atomic_int started;

static void *present_until_revoked(void *arg) {
    int n = (int)(size_t)arg;
    tw_verdict *verdict = NULL;
    if (tw_verdict_new(&verdict) != TW_OK) {
        FAIL("thread %d: tw_verdict_new", n);
        return NULL;
    }
    atomic_fetch_add(&started, 1);
    int after = 0;
    while (after < ROUNDS) {
        /* Read before the call: if the revocation had returned then, this call must fail. */
        int was_revoked = atomic_load(&revoked);
        tw_status status = tw_authority_authenticate(authority, shared_token.ptr,
                                                     shared_token.len, S(""), verdict);
        if (was_revoked) {
            after++;
            if (status == TW_OK) FAIL("thread %d: a revoked token authenticated", n);
            else if (status != TW_EXPIRED && status != TW_UNKNOWN_KEY)
                FAIL("thread %d: revoked token: %s", n, tw_status_name(status));
        } else if (status != TW_OK && status != TW_EXPIRED && status != TW_UNKNOWN_KEY) {
            /* While the revocation runs, a call may already see it. */
            FAIL("thread %d: before revocation: %s", n, tw_status_name(status));
        }
    }
    tw_verdict_free(verdict);
    return NULL;
}

static void run_threads(void *(*body)(void *)) {
    pthread_t threads[THREADS];
    for (size_t i = 0; i < THREADS; i++) pthread_create(&threads[i], NULL, body, (void *)i);
    for (size_t i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
}

/* Mints the shared token, lets the threads present it, then revokes it with `revoke`. */
static void revocation(const char *what,
                       tw_status (*revoke)(const tw_authority *, const char *, size_t,
                                           const char *, size_t)) {
    tw_key *key = NULL;
    shared_token = (tw_str){NULL, 0};
    tw_status status = tw_authority_create_token(authority, S(OWNER), S(OWNER), "", 0, S(""),
                                                 &shared_token, &key);
    if (status != TW_OK) {
        FAIL("%s: create: %s", what, tw_status_name(status));
        return;
    }
    tw_key_free(key);
    atomic_store(&revoked, 0);
    atomic_store(&started, 0);
    pthread_t threads[THREADS];
    for (size_t i = 0; i < THREADS; i++)
        pthread_create(&threads[i], NULL, present_until_revoked, (void *)i);
    while (atomic_load(&started) < THREADS) sched_yield();
    nanosleep(&(struct timespec){.tv_nsec = 2000000}, NULL); /* let them authenticate a while */
    status = revoke(authority, S(OWNER), shared_token.ptr, 10);
    if (status != TW_OK) FAIL("%s: %s", what, tw_status_name(status));
    atomic_store(&revoked, 1);
    for (size_t i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
    tw_str_free(shared_token);
}

/* One tw_key and one tw_settings read by every thread, each with its own verdict. */
static tw_key *shared_key;
static tw_str key_token;

static void *verify_shared_key(void *arg) {
    int n = (int)(size_t)arg;
    tw_verdict *verdict = NULL;
    if (tw_verdict_new(&verdict) != TW_OK) return NULL;
    int64_t expires = 0;
    tw_key_expires_at(shared_key, &expires);
    for (int i = 0; i < ROUNDS * 10; i++) {
        /* Alternate verified and forged so that the verdicts change state every call. */
        char token[TW_TOKEN_LENGTH];
        memcpy(token, key_token.ptr, TW_TOKEN_LENGTH);
        if (i % 2) token[TW_TOKEN_LENGTH - 1] = token[TW_TOKEN_LENGTH - 1] == 'a' ? 'b' : 'a';
        tw_status status = tw_verify_record(token, sizeof token, shared_key, NULL,
                                            expires - 1000000, S("198.51.100.4"), verdict);
        tw_status want = i % 2 ? TW_INVALID_SECRET : TW_OK;
        tw_status held = 0;
        tw_verdict_code(verdict, &held);
        if (status != want || held != want)
            FAIL("thread %d: verify: %s, verdict %s", n, tw_status_name(status),
                 tw_status_name(held));
    }
    tw_verdict_free(verdict);
    return NULL;
}

static void over(const char *url) {
    authority = NULL;
    tw_status status = tw_authority_open(url, strlen(url), NULL, &authority);
    if (status != TW_OK) {
        FAIL("open %s: %s", url, tw_status_name(status));
        return;
    }
    run_threads(mint_and_authenticate);
    revocation("expire", tw_authority_expire);
    revocation("delete", tw_authority_delete);

    shared_key = NULL;
    key_token = (tw_str){NULL, 0};
    status = tw_authority_create_token(authority, S(OWNER), S(OWNER), "", 0, S(""), &key_token,
                                       &shared_key);
    if (status == TW_OK) run_threads(verify_shared_key);
    else FAIL("create: %s", tw_status_name(status));
    tw_key_free(shared_key);
    tw_str_free(key_token);
    tw_authority_free(authority);
    printf("%s: %d threads\n", url, THREADS);
}

int main(void) {
    over(":memory:");
    char dir[] = "/tmp/tokenward-threads-XXXXXX";
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    char path[64];
    snprintf(path, sizeof path, "%s/keys.db", dir);
    over(path);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    int failed = atomic_load(&failures);
    if (failed) {
        fprintf(stderr, "%d failures\n", failed);
        return 1;
    }
    printf("threads: all passed\n");
    return 0;
}
