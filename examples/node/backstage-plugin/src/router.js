'use strict'
// The plugin's routes: every one but /health needs a Coder token (the Coder-Session-Token
// header the Coder Backstage plugin sends, Authorization: Bearer, or any other place Coder
// reads one), checked by tokenward's Express middleware.

const express = require('express')
// In a real plugin: require('tokenward/express').
const { tokenward } = require('../../../../bindings/node/express')

/**
 * The router for `httpRouter.use()`.
 * @param {{authority: import('../../../../bindings/node').Authority,
 *          logger: import('@backstage/backend-plugin-api').LoggerService}} options
 */
function createRouter({ authority, logger }) {
  const router = express.Router()
  router.use(tokenward(authority, { skip: ['/health'] }))

  router.get('/health', (req, res) => {
    res.json({ status: 'ok' })
  })

  router.get('/whoami', (req, res) => {
    const key = req.tokenward
    logger.debug(`whoami: key ${key.id} of user ${key.userId}`) // the key id is not secret
    res.json({ userId: key.userId, tokenName: key.tokenName, keyId: key.id })
  })

  return router
}

module.exports = { createRouter }
