/**
 * The pages' one stylesheet, served from /account/assets/rampart.css. Kept in a module rather
 * than a file so the build ships it without a copy step. No inline styles exist anywhere: the
 * CSP allows `style-src 'self'` only.
 */
export const STYLESHEET = `:root {
  color-scheme: light dark;
  --accent: #2457c5;
  --danger: #b3261e;
  --muted: #5f6368;
  --surface: #f6f7f9;
  --line: #c9ccd1;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  line-height: 1.5;
}
@media (prefers-color-scheme: dark) {
  :root { --accent: #8ab4f8; --danger: #f2b8b5; --muted: #bdc1c6; --surface: #202124; --line: #5f6368; }
}
body { margin: 0; }
.skip, .visually-hidden { position: absolute; left: -10000px; }
.skip:focus { left: 1rem; top: 1rem; }
header.site { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; padding: 0.75rem 1.5rem; border-bottom: 1px solid var(--line); }
header.site .brand { font-weight: 700; }
header.site nav ul { display: flex; flex-wrap: wrap; gap: 1rem; list-style: none; margin: 0; padding: 0; }
main { max-width: 34rem; margin: 2rem auto; padding: 0 1.5rem; }
h1 { font-size: 1.6rem; }
.field { margin: 0 0 1rem; }
.field label { display: block; font-weight: 600; }
.field input { display: block; width: 100%; box-sizing: border-box; padding: 0.5rem; font: inherit; border: 1px solid var(--line); border-radius: 4px; }
.field input:focus, button:focus, a:focus { outline: 3px solid var(--accent); outline-offset: 2px; }
.field.invalid input { border-color: var(--danger); }
.hint { color: var(--muted); margin: 0; font-size: 0.9rem; }
.error, .error-summary { color: var(--danger); }
.error { margin: 0; font-weight: 600; }
.error-summary { border: 2px solid var(--danger); padding: 0.5rem 1rem; margin-bottom: 1rem; }
.notice { background: var(--surface); border-left: 4px solid var(--accent); padding: 0.5rem 1rem; }
.actions { display: flex; flex-wrap: wrap; gap: 0.75rem; margin-top: 1.25rem; }
button { font: inherit; padding: 0.5rem 1.25rem; border-radius: 4px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: transparent; color: var(--accent); }
button.danger { background: var(--danger); border-color: var(--danger); }
dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; }
dl.summary dt { font-weight: 600; }
table { border-collapse: collapse; width: 100%; }
caption { text-align: left; font-weight: 600; margin-bottom: 0.5rem; }
th, td { text-align: left; padding: 0.4rem; border-bottom: 1px solid var(--line); }
ul.scopes li { margin-bottom: 0.25rem; }
form.inline { display: inline; }
`;
