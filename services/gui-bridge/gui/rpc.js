// JSON-RPC from the browser: the same endpoint, credentials and -rpcwhitelist as any client.
// The credentials live in sessionStorage (this tab only) as the Basic header they make.

let authorization = sessionStorage.getItem('orrery-auth');
let nextId = 1;

export class RpcError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

function base64(text) {
  let binary = '';
  for (const b of new TextEncoder().encode(text)) binary += String.fromCharCode(b);
  return btoa(binary);
}

export function setCredentials(user, password) {
  authorization = 'Basic ' + base64(`${user}:${password}`);
  sessionStorage.setItem('orrery-auth', authorization);
}

export function clearCredentials() {
  authorization = null;
  sessionStorage.removeItem('orrery-auth');
}

export function hasCredentials() {
  return !!authorization;
}

export function authHeader() {
  return authorization;
}

async function post(path, body) {
  const response = await fetch(path, {
    method: 'POST',
    // X-Requested-With: the server answers a wrong password without the challenge that opens the browser's own box.
    headers: {'Authorization': authorization || '', 'Content-Type': 'application/json', 'X-Requested-With': 'orrery-gui'},
    body: JSON.stringify(body),
  });
  if (response.status === 401) throw new RpcError(401, 'The user name or password is wrong');
  if (response.status === 403) throw new RpcError(403, 'This user may not call that method (-rpcwhitelist)');
  let parsed;
  try {
    parsed = await response.json();
  } catch (e) {
    throw new RpcError(response.status, `HTTP ${response.status}`);
  }
  return parsed;
}

//! One call; throws RpcError with bitcoind's code and message. `wallet`: the wallet's name, for /wallet/<name>.
export async function rpc(method, params = [], wallet) {
  const path = wallet === undefined ? '/' : '/wallet/' + encodeURIComponent(wallet);
  const reply = await post(path, {jsonrpc: '1.0', id: nextId++, method, params});
  if (reply.error) throw new RpcError(reply.error.code, reply.error.message);
  return reply.result;
}

//! Several calls in one request; each result, or an RpcError in its place.
export async function batch(calls) {
  if (!calls.length) return [];
  const first = nextId;
  const body = calls.map(([method, params = []], i) => ({jsonrpc: '1.0', id: first + i, method, params}));
  nextId += calls.length;
  const replies = await post('/', body);
  const byId = new Map(replies.map((r) => [r.id, r]));
  return body.map((call) => {
    const reply = byId.get(call.id);
    if (!reply) return new RpcError(-32603, 'no reply');
    return reply.error ? new RpcError(reply.error.code, reply.error.message) : reply.result;
  });
}

//! Whether the RPC server knows a method (help names it).
let methodList = null;
export async function hasMethod(name) {
  if (!methodList) {
    const text = await rpc('help');
    methodList = new Set(text.split('\n').filter((l) => l && !l.startsWith('==')).map((l) => l.split(' ')[0]));
    setTimeout(() => { methodList = null; }, 30000); // services register more methods as they come up
  }
  return methodList.has(name);
}
