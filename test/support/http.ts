import { exports } from "cloudflare:workers";
import { documented } from "./api-docs";

/**
 * The Worker's answer to a request. A test that reads its body (`text()`, `json()`) reads one that
 * docs/openapi.yaml describes, headers included, or fails. A 101 (the feed's upgrade) is left as it is.
 */
export async function fetchDocumented(request: Request): Promise<Response> {
  const response = await exports.default.fetch(request);
  return response.status === 101 ? response : documented(request, response);
}
