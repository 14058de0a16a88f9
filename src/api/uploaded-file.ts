/**
 * A file the client read on its own machine and uploaded: `ref` as written in the description,
 * `path` the absolute path it resolved to on the client, `md5` its content (PUT /files/:md5).
 */
export interface UploadedFile {
  ref: string;
  path: string;
  md5: string;
}
