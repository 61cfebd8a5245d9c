/**
 * The page's HTML (pure): a shell that loads /app.js and /app.css from the server, or, for `report`,
 * one self-contained file with the script, the styles and the data inlined and a policy that forbids
 * every network request.
 */
import { type PageData, pageDataJSON } from './page-data.js'

const escapeHTML = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/** The page served by `palisade serve`: data comes from /api/data, updates from /api/events. */
export function renderServedPage(title: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHTML(title)}</title>
<link rel="stylesheet" href="/app.css">
</head>
<body data-mode="serve">
<div id="app"><p class="loading">Loading…</p></div>
<script src="/app.js"></script>
</body>
</html>
`
}

/**
 * One self-contained HTML file (`palisade report`): opens without a network, from a mail or a CI artifact.
 * Its Content-Security-Policy allows no request at all, only the inline script and styles.
 */
export function renderReportPage(data: PageData, script: string, css: string): string {
  // A literal "</script" inside the bundle would end the script element early.
  const safeScript = script.replace(/<\/script/gi, '<\\/script')
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:">
<title>${escapeHTML(data.title)}</title>
<style>${css.replace(/<\/style/gi, '<\\/style')}</style>
</head>
<body data-mode="report">
<div id="app"><p class="loading">Loading…</p></div>
<script type="application/json" id="palisade-data">${pageDataJSON(data)}</script>
<script>${safeScript}</script>
</body>
</html>
`
}
