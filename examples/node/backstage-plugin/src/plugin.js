'use strict'
// A Backstage backend plugin (new backend system) whose routes, under /api/coder-tokens,
// accept Coder API tokens and session tokens, verified in-process by tokenward.

const { coreServices, createBackendPlugin } = require('@backstage/backend-plugin-api')
// In a real plugin: require('tokenward').
const { Authority, Settings } = require('../../../../bindings/node')
const { createRouter } = require('./router')

/**
 * The plugin. Configuration (app-config.yaml):
 *
 *     coderTokens:
 *       store: /var/lib/backstage/coder-keys.db   # a SQLite file; ':memory:' when absent
 *       accessUrl: https://coder.example.com      # optional: resource_metadata in 401s
 */
const coderTokensPlugin = createBackendPlugin({
  pluginId: 'coder-tokens',
  register(env) {
    env.registerInit({
      deps: {
        httpRouter: coreServices.httpRouter,
        logger: coreServices.logger,
        config: coreServices.rootConfig,
        lifecycle: coreServices.lifecycle,
      },
      async init({ httpRouter, logger, config, lifecycle }) {
        const store = config.getOptionalString('coderTokens.store') ?? ':memory:'
        const accessUrl = config.getOptionalString('coderTokens.accessUrl')
        const authority = Authority.open(store, new Settings(accessUrl ? { accessUrl } : {}))
        lifecycle.addShutdownHook(() => authority.close())

        httpRouter.use(createRouter({ authority, logger }))
        // Coder tokens are not Backstage credentials: let every request past Backstage's own
        // credentials barrier, so that tokenward's middleware (and not Backstage) answers.
        httpRouter.addAuthPolicy({ path: '/', allow: 'unauthenticated' })
        logger.info(`Coder tokens checked against ${store === ':memory:' ? 'an in-memory store' : 'a SQLite store'}`)
      },
    })
  },
})

module.exports = { coderTokensPlugin }
