// A typed use of the package, checked with `tsc --noEmit --strict` (scripts/test.sh): the
// declarations in index.d.ts and native.d.ts must describe what a TypeScript server writes.
import {
  ApiKey,
  Authority,
  Settings,
  extractToken,
  formatDuration,
  parseDuration,
  verifyRecord,
  type Authenticated,
  type Minted,
  type Verified,
} from '..'

async function serve(): Promise<void> {
  const settings = new Settings({ sessionDuration: '12h', accessUrl: 'https://coder.example.com' })
  const authority: Authority = Authority.open(':memory:', settings)
  const minted: Minted = await authority.createToken({ id: 'jane', roles: ['owner'] }, {
    tokenName: 'ci',
    lifetime: '30d',
    scopes: ['coder:all'],
    allowList: ['*:*', { type: 'workspace', id: '*' }],
  })
  const key: ApiKey = minted.key
  const expires: Date = key.expiresAt
  const micros: bigint = key.expiresAtMicros
  const checked: Authenticated = await authority.authenticate(minted.token, '203.0.113.7')
  const verified: Verified = verifyRecord(minted.token, key, { now: new Date(), remoteAddr: '203.0.113.7' })
  if (verified.update !== null) {
    const slid: bigint = verified.update.expiresAtMicros
    void slid
  }
  const found = extractToken({ headers: { authorization: `Bearer ${minted.token}` }, query: '' })
  const token: string | undefined = found?.token
  const inOne: Authenticated = authority.authenticateRequestSync(['Coder-Session-Token', minted.token], 'x=1', null)
  const same: boolean = inOne.key.id === key.id
  const lifetime: number = parseDuration('168h')
  const text: string = formatDuration(lifetime)
  try {
    authority.authenticateSync('not-a-token')
  } catch (error) {
    const e = error as Error & { code: string; status: number; body: string }
    console.log(e.code, e.status, e.body)
  }
  console.log(expires, micros, checked.key.userId, token, text, same, authority.tokenConfig('jane'))
  authority.close()
}

void serve()
