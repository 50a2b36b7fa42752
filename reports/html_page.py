"""The shell of the HTML dashboard: escaping, the inline CSS and scripts, and the page itself.

The security-relevant pieces live together here so they can be reviewed in one sitting:
every input string passes ``esc`` (HTML text) or ``script_json`` (JSON inside ``<script>``),
and a Content-Security-Policy lets only this page's own scripts run (by hash), so even a
string that slipped through unescaped could not execute. The page fetches nothing except,
in ``cdn`` mode, plotly.js from its CDN.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re

from analyzer.core.safe_text import json_escape_unsafe, printable

PLOTLYJS_MODES = ("inline", "cdn")
CDN_ORIGIN = "https://cdn.plot.ly"

_JSON_ESCAPES = (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"),
                 ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE_SPAN = re.compile(r"(`[^`]+`)")

CSS = """
:root{--ink:#1f2937;--muted:#6b7280;--line:#e5e7eb;--bg:#f6f7f9;--card:#fff;--accent:#1d4ed8}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,sans-serif}
header{background:#111827;color:#f9fafb;padding:1.2rem 2rem}
header h1{margin:0;font-size:1.35rem;font-weight:600}header p{margin:.2rem 0 0;color:#9ca3af;font-size:.85rem}
nav{background:#fff;border-bottom:1px solid var(--line);padding:.5rem 2rem;position:sticky;top:0;z-index:10}
nav a{color:var(--accent);text-decoration:none;margin-right:1.2rem;font-size:.85rem}
main{max-width:1280px;margin:0 auto;padding:1.5rem 2rem 3rem}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:1.2rem 1.4rem;
margin:0 0 1.5rem}
h2{font-size:1.1rem;margin:0 0 .8rem}h3{font-size:.95rem;margin:1.2rem 0 .4rem}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(190px,1fr));gap:1rem;margin-bottom:1rem}
.card{border:1px solid var(--line);border-radius:6px;padding:.8rem 1rem;background:#fafafa}
.card .label{color:var(--muted);font-size:.75rem;text-transform:uppercase;letter-spacing:.04em}
.card .value{font-size:1.5rem;font-weight:600;margin-top:.2rem}.card .note{color:var(--muted);font-size:.8rem}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(480px,100%),1fr));gap:1rem}
figure{margin:0 0 1rem}figcaption{color:var(--muted);font-size:.8rem;margin-top:.3rem}
.chart{width:100%;min-height:260px}.chart-missing{color:#991b1b;padding:1rem;border:1px dashed #fca5a5}
.table-wrap{overflow-x:auto;max-width:100%}section{min-width:0;overflow-wrap:break-word}
.conf{white-space:nowrap;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
.paste{position:relative;margin:.4rem 0}.paste pre{margin:0;padding:.5rem .6rem;background:#f3f4f6;
border-radius:4px;overflow-x:auto;white-space:pre}
.paste pre code{white-space:pre;overflow-wrap:normal;padding:0}
button.copy{position:absolute;top:.25rem;right:.25rem;font-size:.72rem;padding:.1rem .45rem;cursor:pointer;
border:1px solid var(--line);border-radius:4px;background:#fff;color:var(--accent)}
td.saving{white-space:normal;min-width:9rem}
p.claim-note{margin:.3rem 0 0;font-size:.78rem;color:var(--muted)}
tr.observed td{font-weight:600}
table{border-collapse:collapse;width:100%;font-size:.85rem}
th,td{border-bottom:1px solid var(--line);padding:.45rem .6rem;text-align:left;vertical-align:top}
th{background:#f3f4f6;font-weight:600;white-space:nowrap}
th[data-sortable]{cursor:pointer;user-select:none}th[data-sortable]:hover{background:#e5e7eb}
th[data-sortable]::after{content:" \\2195";color:#9ca3af}
th[aria-sort=ascending]::after{content:" \\2191";color:var(--ink)}
th[aria-sort=descending]::after{content:" \\2193";color:var(--ink)}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tbody tr:hover{background:#f9fafb}
code{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f3f4f6;padding:0 .25rem;
border-radius:3px;overflow-wrap:anywhere}td code{overflow-wrap:normal;white-space:nowrap}
.sev{display:inline-block;border-radius:10px;padding:0 .55rem;font-size:.75rem;font-weight:600;
text-transform:uppercase}
.sev-critical{background:#7f1d1d;color:#fff}.sev-high{background:#fee2e2;color:#991b1b}
.sev-medium{background:#fef3c7;color:#92400e}.sev-low{background:#e0e7ff;color:#3730a3}
details summary{cursor:pointer;color:var(--accent)}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem;margin:.4rem 0}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
ul.evidence{list-style:none;padding:0;margin:.3rem 0;font-size:.8rem}ul.evidence li{overflow-wrap:break-word}
#findings td:nth-child(4){min-width:9rem;max-width:13rem;overflow-wrap:anywhere}
#findings td:nth-child(4) code{white-space:normal;overflow-wrap:anywhere}
#findings td:nth-child(5){min-width:12rem}#findings td:nth-child(8){min-width:16rem;overflow-wrap:anywhere}
#findings td:nth-child(8) code{white-space:normal;overflow-wrap:anywhere}
ol.actions li{margin:.3rem 0}ul.notes li{margin:.35rem 0}.muted{color:var(--muted)}.err{color:#991b1b}
footer{color:var(--muted);font-size:.8rem;text-align:center;padding:1rem}
nav{overflow-x:auto;white-space:nowrap}dl.facts dd{min-width:0;overflow-wrap:anywhere}
@media (max-width:640px){header,nav{padding-left:.8rem;padding-right:.8rem}main{padding:.8rem .5rem 2rem}
section{padding:.8rem .7rem}.cards{grid-template-columns:repeat(auto-fit,minmax(150px,1fr))}
.card .value{font-size:1.2rem}#findings td:nth-child(5){min-width:12rem}
#findings td:nth-child(8){min-width:14rem}}
"""

BOOT_JS = """(function () {
  "use strict";
  function sortKey(cell, numeric) {
    var raw = cell.getAttribute("data-sort");
    if (raw === null) { raw = cell.textContent.trim().toLowerCase(); }
    if (!numeric) { return raw; }
    var n = parseFloat(raw);
    return isNaN(n) ? -Infinity : n;
  }
  function sortBy(th) {
    var table = th.closest("table"), body = table.tBodies[0];
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var numeric = th.getAttribute("data-type") === "num";
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = sortKey(a.cells[index], numeric), y = sortKey(b.cells[index], numeric);
      var order = numeric ? x - y : String(x).localeCompare(String(y));
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    th.parentNode.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }
  document.querySelectorAll("th[data-sortable]").forEach(function (th) {
    th.addEventListener("click", function () { sortBy(th); });
    th.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(th); }
    });
  });
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var text = button.parentNode.querySelector("pre").textContent;
      var done = function () { button.textContent = "Copied"; };
      button.textContent = "Copying";
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, function () { button.textContent = "Select it"; });
      } else { button.textContent = "Select it"; }
    });
  });
  document.querySelectorAll("[data-figure]").forEach(function (div) {
    if (typeof Plotly === "undefined") {
      div.className += " chart-missing";
      div.textContent = "Chart not shown: plotly.js could not be loaded " +
        "(the page was written with --plotlyjs cdn and the CDN was not reachable).";
      return;
    }
    var figure = JSON.parse(document.getElementById(div.getAttribute("data-figure")).textContent);
    Plotly.newPlot(div, figure.data, figure.layout, {displaylogo: false, responsive: true});
  });
})();"""


def esc(value: object) -> str:
    """Input text as HTML text or attribute value; ``None`` becomes empty.

    Controls and bidi overrides become visible escapes too: HTML escaping leaves them in, and
    a page saved from the dashboard may be read with ``cat`` or reorder what the reader sees.
    """
    return "" if value is None else html.escape(printable(value), quote=True)


def inline_markdown(text: str) -> str:
    """The shared governance/methodology lines (Markdown) as HTML: escaped, with code spans and bold.

    Code spans are cut out first so the stars of ``*********(redacted)`` never turn into bold.
    """
    parts = _CODE_SPAN.split(text.removeprefix("- "))
    return "".join(f"<code>{esc(part[1:-1])}</code>" if i % 2 else _BOLD.sub(r"<strong>\1</strong>",
                                                                                esc(part))
                   for i, part in enumerate(parts))


def script_json(text: str) -> str:
    """JSON made safe inside ``<script>``: ``<``, ``>``, ``&`` become ``\\u`` escapes that JSON.parse undoes.

    Outside strings JSON never contains these characters, so the escape cannot change the data,
    while ``</script>`` or ``<!--`` inside a string can no longer end or confuse the element.
    """
    for raw, escaped in _JSON_ESCAPES:
        text = text.replace(raw, escaped)
    return json_escape_unsafe(text)


def data_block(block_id: str, json_text: str) -> str:
    """A non-executed JSON data island that the boot script reads with ``JSON.parse``."""
    return f'<script type="application/json" id="{esc(block_id)}">{script_json(json_text)}</script>'


def _sha256(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


def _csp(script_sources: list[str]) -> str:
    """Only the listed scripts may run; no inline handlers, no network but the optional CDN."""
    return ("default-src 'none'; style-src 'unsafe-inline'; img-src data: blob:; font-src data:; "
            f"script-src {' '.join(script_sources)}; base-uri 'none'; form-action 'none'")


def plotly_tags(mode: str, plotly_js: str, cdn_url: str) -> tuple[str, str]:
    """(script tag, CSP source) that loads plotly.js inline or from the CDN."""
    if mode == "cdn":
        return f'<script src="{esc(cdn_url)}" charset="utf-8"></script>', CDN_ORIGIN
    if "</script" in plotly_js.lower():  # never seen in plotly.min.js; would end the element early
        raise ValueError("plotly.js contains '</script' and cannot be inlined")
    return f"<script>{plotly_js}</script>", _sha256(plotly_js)


def page(title: str, subtitle: str, nav: list[tuple[str, str]], body: str, plotly_tag: str,
         plotly_source: str) -> str:
    """The whole document: CSP first, then the content, then plotly.js and the boot script."""
    links = "".join(f'<a href="#{esc(anchor)}">{esc(label)}</a>' for anchor, label in nav)
    csp = _csp([s for s in (plotly_source, _sha256(BOOT_JS)) if s])  # no plotly source: no chart drawn
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{esc(csp)}">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{esc(title)}</h1><p>{esc(subtitle)}</p></header><nav>{links}</nav>"
        f"<main>{body}</main><footer>Generated by deanalyze. Self-contained page: share it where the event "
        f"logs themselves may be read.</footer>{plotly_tag}<script>{BOOT_JS}</script></body></html>\n"
    )
