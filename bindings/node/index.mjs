// ESM entry point: the same addon as `require('tokenward')`, its names re-exported.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const native = require('./index.js')

export const {
  ApiKey,
  Authority,
  Settings,
  codes,
  extractToken,
  formatDuration,
  generate,
  hashSecret,
  parse,
  parseDuration,
  parseDurationNs,
  verifyRecord,
} = native

export default native
