// ESM entry point of `tokenward/express`: the same module as `require('tokenward/express')`.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const express = require('./express.js')

export const { tokenward, answer, isTokenwardError } = express

export default express.tokenward
