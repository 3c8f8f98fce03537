import type { WebCorsOptions, WebRequest, WebResponse } from '../interfaces/grpc-web-options.interface';

/** The methods and headers of the Connect and gRPC-Web protocols a browser's page must be allowed to use and read. */
export const WEB_PROTOCOL_CORS = {
  allowedMethods: ['POST', 'GET'],
  allowedHeaders: [
    'Content-Type',
    'Connect-Protocol-Version',
    'Connect-Timeout-Ms',
    'Connect-Content-Encoding',
    'Connect-Accept-Encoding',
    'Content-Encoding',
    'Accept-Encoding',
    'Grpc-Message-Type',
    'X-Grpc-Web',
    'X-User-Agent',
    'Grpc-Timeout',
  ],
  exposedHeaders: ['Grpc-Status', 'Grpc-Message', 'Grpc-Status-Details-Bin', 'Content-Encoding', 'Connect-Content-Encoding'],
} as const;

/**
 * CORS for the web address: the allowed origins get the headers gRPC-Web and Connect clients
 * need (`WEB_PROTOCOL_CORS`), preflights are answered here, and any other origin gets no CORS
 * header at all, so browsers keep its pages from reading the answers.
 */
export class Cors {
  private readonly anyOrigin: boolean;
  private readonly origins: ReadonlySet<string>;
  private readonly allowMethods: string;
  private readonly allowHeaders: string;
  private readonly exposeHeaders: string;
  private readonly maxAge: string;

  /** `methods`: further HTTP methods requests use (those of HTTP/JSON routes). */
  constructor(
    private readonly options: WebCorsOptions = {},
    methods: readonly string[] = [],
  ) {
    this.anyOrigin = options.origins === '*';
    this.origins = new Set(options.origins === '*' ? [] : (options.origins ?? []));
    this.allowMethods = unique([...WEB_PROTOCOL_CORS.allowedMethods, ...methods]).join(', ');
    this.allowHeaders = unique([...WEB_PROTOCOL_CORS.allowedHeaders, 'Authorization', ...(options.allowedHeaders ?? [])]).join(', ');
    this.exposeHeaders = unique([...WEB_PROTOCOL_CORS.exposedHeaders, ...(options.exposedHeaders ?? [])]).join(', ');
    this.maxAge = String(options.maxAgeSeconds ?? 7200);
  }

  /** Sets the CORS headers of an allowed origin's request; answers a preflight and returns true. */
  handle(request: WebRequest, response: WebResponse): boolean {
    const origin = request.headers.origin;
    const allowed = origin !== undefined && (this.anyOrigin || this.origins.has(origin));
    const preflight = request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined;
    if (allowed) {
      response.setHeader('Access-Control-Allow-Origin', origin);
      if (this.options.credentials) response.setHeader('Access-Control-Allow-Credentials', 'true');
    }
    response.setHeader('Vary', 'Origin');
    if (!preflight) {
      if (allowed) response.setHeader('Access-Control-Expose-Headers', this.exposeHeaders);
      return false;
    }
    if (allowed) {
      response.setHeader('Access-Control-Allow-Methods', this.allowMethods);
      response.setHeader('Access-Control-Allow-Headers', this.allowHeaders);
      response.setHeader('Access-Control-Max-Age', this.maxAge);
    }
    response.writeHead(204);
    response.end();
    return true;
  }
}

function unique(names: readonly string[]): string[] {
  const seen = new Map<string, string>();
  for (const name of names) if (!seen.has(name.toLowerCase())) seen.set(name.toLowerCase(), name);
  return [...seen.values()];
}
