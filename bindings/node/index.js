'use strict'
// tokenward for Node.js: the addon (native.js loads it; its types are native.d.ts, generated
// from the Rust doc comments), with the two per-request answers shaped here, `verifyRecord`'s
// and `authenticateSync`'s `{key, update}`: an object literal is made in JavaScript far faster
// than through N-API.
const native = require('./native.js')

const { ApiKey, Authority } = native

/**
 * Checks a presented token against the record the host fetched for its id (`null`: no row),
 * as Coder's middleware does, and decides the refresh. Returns `{key, update}`: write
 * `update` back when it is not `null`. A token that does not authenticate throws an `Error`
 * whose `code` says why (`'TOKENWARD_EXPIRED'`, ...), carrying Coder's answer.
 */
function verifyRecord(token, key, options) {
  const update = native.verifyRecordUpdate(token, key, options)
  return { key, update }
}

// The addon answers the key alone when nothing was written (the usual case).
const keyAlone = (answer) => (answer instanceof ApiKey ? { key: answer, update: null } : answer)
const { authenticateSync, authenticateRequestSync } = Authority.prototype
const methods = {
  authenticateSync(token, remoteAddr) {
    return keyAlone(authenticateSync.call(this, token, remoteAddr))
  },
  authenticateRequestSync(rawHeaders, query, remoteAddr) {
    return keyAlone(authenticateRequestSync.call(this, rawHeaders, query, remoteAddr))
  },
}
for (const [name, value] of Object.entries(methods)) {
  Object.defineProperty(Authority.prototype, name, { value, writable: true, configurable: true })
}

module.exports = { ...native, verifyRecord }
