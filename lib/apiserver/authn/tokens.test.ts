import crypto from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { decodeJWT, keyID, signJWT, signingKeyFromPEM, verificationKeysFromPEM, verifyJWTSignature } from './jwt.js';
import { parseCSVLine, parseTokenFile, TokenFileAuthenticator } from './token-file.js';
import { ServiceAccountTokenAuthenticator, ServiceAccountTokenIssuer } from './serviceaccount.js';
import { InvalidTokenError } from './types.js';
import type { KubeObject } from '../../api/index.js';

const pem = (type: 'rsa' | 'ec') =>
  (type === 'rsa' ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }) : crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

describe('JWT', () => {
  test.each(['rsa', 'ec'] as const)('%s keys sign and verify; another key, a changed payload or alg "none" do not verify', (type) => {
    const k = signingKeyFromPEM(pem(type));
    expect(k.alg).toBe(type === 'rsa' ? 'RS256' : 'ES256');
    const token = signJWT({ sub: 'x', n: 1 }, k);
    const jwt = decodeJWT(token)!;
    expect(jwt.header).toEqual({ alg: k.alg, kid: k.kid });
    const keys = verificationKeysFromPEM(crypto.createPublicKey(k.key).export({ type: 'spki', format: 'pem' }) as string);
    expect(verifyJWTSignature(jwt, keys)).toBe(true);
    expect(verifyJWTSignature(jwt, verificationKeysFromPEM(pem(type)))).toBe(false);
    const [h, , sig] = token.split('.');
    const tampered = decodeJWT(`${h}.${Buffer.from(JSON.stringify({ sub: 'admin', n: 1 })).toString('base64url')}.${sig}`)!;
    expect(verifyJWTSignature(tampered, keys)).toBe(false);
    const none = decodeJWT(`${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${token.split('.')[1]}.`)!;
    expect(verifyJWTSignature(none, keys)).toBe(false);
  });

  test('key ids are the base64url SHA-256 of the public key; keys come from public keys, private keys or certificates', () => {
    const k = signingKeyFromPEM(pem('rsa'));
    const pub = crypto.createPublicKey(k.key);
    expect(k.kid).toBe(crypto.createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('base64url'));
    expect(keyID(pub)).toBe(k.kid);
    const both = verificationKeysFromPEM(`${pem('ec')}\n${pub.export({ type: 'spki', format: 'pem' })}`);
    expect(both.map((x) => x.kid)).toContain(k.kid);
    expect(decodeJWT('not.a.jwt!')).toBeNull();
    expect(decodeJWT('abc')).toBeNull();
  });
});

describe('static token file', () => {
  test('upstream\'s CSV: token,user,uid,"group1,group2"', async () => {
    expect(parseCSVLine('t,u,1,"a,b"')).toEqual(['t', 'u', '1', 'a,b']);
    expect(parseCSVLine('t,"say ""hi""",1')).toEqual(['t', 'say "hi"', '1']);
    const tokens = parseTokenFile('# comment\nsecret1,alice,100,"admins,devs"\n\nsecret2,bob,101\n');
    const a = new TokenFileAuthenticator(tokens);
    expect(await a.authenticateToken('secret1', ['api'])).toEqual({ user: { username: 'alice', uid: '100', groups: ['admins', 'devs'] }, audiences: ['api'] });
    expect((await a.authenticateToken('secret2', []))!.user).toEqual({ username: 'bob', uid: '101', groups: [] });
    expect(await a.authenticateToken('nope', [])).toBeNull();
  });

  test.each([
    ['a,b\n', "must have at least 3 columns (token, user name, user uid), found 2 on line 1"],
    ['a,b,c\na,d,e\n', 'duplicate token'],
    ['a,b,"c\n', 'unterminated quoted field'],
  ])('refuses %j', (text, message) => {
    expect(() => parseTokenFile(text)).toThrow(message);
  });
});

describe('service account tokens', () => {
  const issuer = 'https://issuer.example';
  const objects = new Map<string, KubeObject>([
    ['serviceaccounts/ns/sa', { metadata: { name: 'sa', namespace: 'ns', uid: 'sa-uid' } }],
    ['pods/ns/p', { metadata: { name: 'p', namespace: 'ns', uid: 'pod-uid' } }],
  ]);
  const key = signingKeyFromPEM(pem('ec'));
  const iss = new ServiceAccountTokenIssuer(key, issuer);
  let now = Date.now();
  const auth = new ServiceAccountTokenAuthenticator({
    keys: verificationKeysFromPEM(crypto.createPublicKey(key.key).export({ type: 'spki', format: 'pem' }) as string),
    issuers: [issuer],
    get: async (r, ns, name) => objects.get(`${r}/${ns}/${name}`) ?? null,
    now: () => now,
  });
  const claims = { namespace: 'ns', serviceaccount: { name: 'sa', uid: 'sa-uid' }, pod: { name: 'p', uid: 'pod-uid' } };

  test('a bound token is the service account, with pod extras, for its audiences', async () => {
    const { token } = iss.issue(claims, ['api', 'vault'], 3600, now);
    const r = await auth.authenticateToken(token, ['api']);
    expect(r!.audiences).toEqual(['api']);
    expect(r!.user).toMatchObject({ username: 'system:serviceaccount:ns:sa', uid: 'sa-uid', groups: ['system:serviceaccounts', 'system:serviceaccounts:ns'] });
    expect(r!.user.extra!['authentication.kubernetes.io/pod-uid']).toEqual(['pod-uid']);
    expect(r!.user.extra!['authentication.kubernetes.io/credential-id']![0]).toMatch(/^JTI=/);
    await expect(auth.authenticateToken(token, ['other'])).rejects.toThrow(InvalidTokenError);
  });

  test('tokens of other issuers are not ours; expired ones and ones naming recreated objects are invalid', async () => {
    const other = new ServiceAccountTokenIssuer(key, 'https://elsewhere');
    expect(await auth.authenticateToken(other.issue(claims, ['api'], 3600).token, ['api'])).toBeNull();
    const { token } = iss.issue(claims, ['api'], 600, now);
    now += 601_000 + 60_000; // past the expiry and the minute of leeway
    await expect(auth.authenticateToken(token, ['api'])).rejects.toThrow('service account token has expired');
    now = Date.now();
    const recreated = iss.issue({ ...claims, pod: { name: 'p', uid: 'old-uid' } }, ['api'], 3600, now).token;
    await expect(auth.authenticateToken(recreated, ['api'])).rejects.toThrow('pod ns/p UID (pod-uid) does not match its claim (old-uid)');
    const gone = iss.issue({ ...claims, pod: { name: 'gone', uid: 'x' } }, ['api'], 3600, now).token;
    await expect(auth.authenticateToken(gone, ['api'])).rejects.toThrow('pod ns/gone has been deleted');
  });
});
