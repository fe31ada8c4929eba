'use strict'
// backend.add(require('@tokenward-example/backstage-plugin-coder-tokens-backend'))
const { coderTokensPlugin } = require('./plugin')

module.exports = coderTokensPlugin
module.exports.default = coderTokensPlugin
module.exports.coderTokensPlugin = coderTokensPlugin
module.exports.createRouter = require('./router').createRouter
