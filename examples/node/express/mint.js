'use strict'
// Mints a Coder API token into a SQLite file of keys and prints it (only its hash is stored).
//
//   node mint.js [user] [token name] [lifetime]     (TOKENWARD_DB, default keys.db)
//   node mint.js jane ci 720h

const { Authority } = require('../../../bindings/node')

const [user = 'jane', tokenName = '', lifetime] = process.argv.slice(2)
const authority = Authority.open(process.env.TOKENWARD_DB || 'keys.db')
try {
  const { token } = authority.createTokenSync(user, { tokenName, ...(lifetime ? { lifetime } : {}) })
  process.stdout.write(token + '\n')
} catch (error) {
  process.stderr.write(`mint: ${error.code || ''} ${error.message}\n`)
  process.exitCode = 1
} finally {
  authority.close()
}
