/** `Application/JSON; charset=utf-8` -> `application/json`: a Content-Type's media type, or undefined. */
export function mediaType(contentType: string | undefined): string | undefined {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  return type ? type : undefined;
}
