/** S3_URL: `s3://key:secret@host:port/bucket` (`s3s://` for TLS), parsed into Bun's S3 options. */
export interface S3Location {
  accessKeyId: string;
  secretAccessKey: string;
  endpoint: string;
  bucket: string;
}

/** The parsed location, or a sentence saying what is wrong (never repeating the secret). */
export function parseS3Url(raw: string): S3Location | string {
  const example = "set it to s3://KEY:SECRET@host:port/bucket (s3s:// for TLS)";
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `is not a URL; ${example}.`;
  }
  if (url.protocol !== "s3:" && url.protocol !== "s3s:") return `must start with s3:// or s3s://; ${example}.`;
  if (url.username === "" || url.password === "") return `needs an access key and a secret before the host; ${example}.`;
  if (url.hostname === "") return `needs a host; ${example}.`;
  const bucket = url.pathname.replace(/^\/|\/$/g, "");
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) return `needs a bucket name (3-63 lowercase letters, digits, dots, hyphens) as its path; ${example}.`;
  if (url.search !== "" || url.hash !== "") return `has a query or fragment; ${example}.`;
  const scheme = url.protocol === "s3s:" ? "https" : "http";
  const port = url.port ? `:${url.port}` : "";
  return {
    accessKeyId: decodeURIComponent(url.username),
    secretAccessKey: decodeURIComponent(url.password),
    endpoint: `${scheme}://${url.hostname}${port}`,
    bucket,
  };
}
