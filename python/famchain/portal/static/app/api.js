/**
 * @file The portal's JSON API, seen from the page. Every failure becomes an ApiError whose message is a
 * sentence saying what to do next (the server's, or its Chinese counterpart by the error's stable code).
 */
import { API_ERRORS_ZH, language, t } from "./i18n.js";

export class ApiError extends Error {
  constructor(message, code, status, detail = message) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
    this.detail = detail;
  }
}

let access = null;

/**
 * Sets what signs the page's `/ipfs/` requests (the portal serves sealed bytes only to a signed request).
 * @param {(() => string) | null} header - returns the `Authorization` value.
 */
export function setAccess(header) {
  access = header;
}

async function call(path, { method = "GET", json, bytes } = {}) {
  const init = { method, headers: {} };
  if (path.startsWith("/ipfs/") && access) init.headers.Authorization = access();
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json, (_, v) => (typeof v === "bigint" ? v.toString() : v));
  } else if (bytes !== undefined) {
    init.headers["Content-Type"] = "application/octet-stream";
    init.body = bytes;
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(t("err.network"), "network", 0);
  }
  if (response.ok) {
    return path.startsWith("/ipfs/") ? new Uint8Array(await response.arrayBuffer()) : response.json();
  }
  let body = {};
  try {
    body = await response.json();
  } catch {
    body = { error: t("err.network"), code: "network" };
  }
  const detail = body.error ?? t("err.network");
  const message = language() === "zh" && API_ERRORS_ZH[body.code] ? API_ERRORS_ZH[body.code] : detail;
  throw new ApiError(message, body.code ?? "http", response.status, detail);
}

export const api = {
  config: () => call("/api/config"),
  account: (a) => call(`/api/accounts/${a}`),
  resident: (a) => call(`/api/residents/${a}`),
  card: (a) => call(`/api/residents/${a}/card`),
  inbox: (a) => call(`/api/residents/${a}/inbox`),
  audit: (a) => call(`/api/residents/${a}/audit`),
  typedData: (action, params) => call(`/api/typed-data/${action}`, { method: "POST", json: { params } }),
  relay: (action, params, typedData, signature) =>
    call("/api/relay", { method: "POST", json: { action, params, typedData, signature } }),
  storeBundle: (bytes) => call("/api/bundles", { method: "POST", bytes }),
  block: (cid) => call(`/ipfs/${cid}`),
};
