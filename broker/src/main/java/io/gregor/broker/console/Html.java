package io.gregor.broker.console;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * A page being written. Every text that reaches it goes through {@link #text} or {@link #attr}, which escape
 * it: topic names, group ids, record keys and values are whatever clients sent. No script, no external
 * resource: the style sheet is inline, so the console works offline and with JavaScript off.
 */
final class Html {
    private static final String STYLE = """
            *{box-sizing:border-box}
            body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2933;background:#f5f6f8}
            header{background:#1f2937;color:#fff;padding:0 24px;display:flex;align-items:center;gap:28px;height:48px}
            header .brand{font-weight:700;font-size:16px;letter-spacing:.02em;color:#fff;text-decoration:none}
            header nav a{color:#cbd5e1;text-decoration:none;margin-right:18px}
            header nav a.on{color:#fff;font-weight:600;border-bottom:2px solid #60a5fa;padding-bottom:12px}
            header .who{margin-left:auto;color:#94a3b8;font-size:12px}
            main{padding:20px 24px 40px;max-width:1280px}
            h1{font-size:20px;margin:4px 0 14px}
            h2{font-size:15px;margin:22px 0 6px;color:#374151}
            a{color:#1d4ed8}
            table{border-collapse:collapse;background:#fff;width:100%;border:1px solid #e5e7eb;margin:6px 0 8px}
            th,td{padding:6px 10px;border-bottom:1px solid #eef0f3;text-align:left;vertical-align:top}
            th{background:#f3f4f6;font-weight:600;font-size:12px;color:#4b5563;text-transform:uppercase;letter-spacing:.03em}
            tr:last-child td{border-bottom:0}
            .num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
            .mono,code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
            .val{white-space:pre-wrap;word-break:break-all;max-width:520px}
            .hex{color:#6b21a8}
            .null{color:#9ca3af;font-style:italic}
            .muted{color:#6b7280}
            .cards{display:flex;flex-wrap:wrap;gap:12px;margin:0 0 10px}
            .card{background:#fff;border:1px solid #e5e7eb;border-radius:6px;padding:10px 16px;min-width:130px}
            .card .k{font-size:12px;color:#6b7280;text-transform:uppercase;letter-spacing:.03em}
            .card .v{font-size:20px;font-weight:600;word-break:break-all}
            .badge{display:inline-block;font-size:11px;padding:1px 7px;border-radius:9px;background:#e5e7eb;color:#374151;margin-left:6px}
            .badge.blue{background:#dbeafe;color:#1e40af}.badge.green{background:#dcfce7;color:#166534}.badge.amber{background:#fef3c7;color:#92400e}
            .notice,.problem{padding:8px 12px;border-radius:6px;margin:0 0 12px}
            .notice{background:#ecfdf5;border:1px solid #a7f3d0}
            .problem{background:#fef2f2;border:1px solid #fecaca;color:#991b1b}
            form.box{background:#fff;border:1px solid #e5e7eb;border-radius:6px;padding:12px 16px;margin:6px 0 8px}
            form.box.danger{border-color:#fecaca}
            .row{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-end}
            label{display:flex;flex-direction:column;font-size:12px;color:#4b5563;gap:3px}
            input,select,textarea{font:inherit;padding:5px 8px;border:1px solid #cbd5e1;border-radius:4px;background:#fff}
            textarea{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12.5px}
            button{font:inherit;padding:6px 14px;border:0;border-radius:4px;background:#2563eb;color:#fff;cursor:pointer}
            button.danger{background:#dc2626}
            label.check{flex-direction:row;align-items:center;gap:6px;font-size:13px;color:#1f2933}
            .pager{display:flex;gap:16px;margin:8px 0}
            details summary{cursor:pointer;color:#374151;margin:6px 0}
            """;

    private final StringBuilder out = new StringBuilder(8192);

    /** Starts a page: title, the navigation with {@code section} marked, and the broker it is. */
    Html(String title, String section, int brokerId, String clusterId) {
        out.append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">")
                .append("<title>").append(escape(title)).append(" · Gregor</title><style>").append(STYLE)
                .append("</style></head><body><header><a class=\"brand\" href=\"/\">Gregor</a><nav>");
        nav("/", "Cluster", section);
        nav("/topics", "Topics", section);
        nav("/groups", "Consumer groups", section);
        nav("/api", "JSON API", section);
        out.append("</nav><span class=\"who\">broker ").append(brokerId).append(" · cluster ")
                .append(escape(clusterId)).append("</span></header><main>");
    }

    private void nav(String href, String label, String section) {
        out.append("<a href=\"").append(href).append('"').append(label.equals(section) ? " class=\"on\"" : "")
                .append('>').append(label).append("</a>");
    }

    /** Raw markup: only literals written in this package, never data. */
    Html raw(String markup) {
        out.append(markup);
        return this;
    }

    Html text(Object value) {
        out.append(escape(String.valueOf(value)));
        return this;
    }

    /** {@code name="value"} with the value escaped, preceded by a space. */
    Html attr(String name, Object value) {
        out.append(' ').append(name).append("=\"").append(escape(String.valueOf(value))).append('"');
        return this;
    }

    Html h1(Object title) {
        return raw("<h1>").text(title).raw("</h1>");
    }

    Html h2(Object title) {
        return raw("<h2>").text(title).raw("</h2>");
    }

    Html link(String href, Object label) {
        return raw("<a").attr("href", href).raw(">").text(label).raw("</a>");
    }

    Html card(String key, Object value) {
        return raw("<div class=\"card\"><div class=\"k\">").text(key).raw("</div><div class=\"v\">").text(value)
                .raw("</div></div>");
    }

    Html notice(String message) {
        return message == null ? this : raw("<div class=\"notice\" role=\"status\">").text(message).raw("</div>");
    }

    Html problem(String message) {
        return message == null ? this : raw("<div class=\"problem\" role=\"alert\">").text(message).raw("</div>");
    }

    /** A header row; a column name starting with '#' is numeric (right-aligned). */
    Html tableHead(String... columns) {
        raw("<table><thead><tr>");
        for (String c : columns) {
            if (c.startsWith("#")) {
                raw("<th class=\"num\">").text(c.substring(1)).raw("</th>");
            } else {
                raw("<th>").text(c).raw("</th>");
            }
        }
        return raw("</tr></thead><tbody>");
    }

    Html tableEnd() {
        return raw("</tbody></table>");
    }

    Html td(Object value) {
        return raw("<td>").text(value).raw("</td>");
    }

    Html tdNum(long value) {
        return raw("<td class=\"num\">").text(value < 0 ? "–" : String.format("%,d", value)).raw("</td>");
    }

    Html tdBytes(long value) {
        return raw("<td class=\"num\">").text(value < 0 ? "–" : bytes(value)).raw("</td>");
    }

    String finish() {
        return out.append("</main></body></html>").toString();
    }

    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        if (n < 1024 * 1024) {
            return String.format("%.1f KiB", n / 1024.0);
        }
        if (n < 1024L * 1024 * 1024) {
            return String.format("%.1f MiB", n / (1024.0 * 1024));
        }
        return String.format("%.2f GiB", n / (1024.0 * 1024 * 1024));
    }

    static String time(long epochMs) {
        return epochMs < 0 ? "–" : Instant.ofEpochMilli(epochMs).toString().replace('T', ' ');
    }

    /** One path segment or query value, percent-encoded (group ids may hold '/', '?', '#', spaces). */
    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    static String escape(String s) {
        StringBuilder sb = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            String r = switch (c) {
                case '&' -> "&amp;";
                case '<' -> "&lt;";
                case '>' -> "&gt;";
                case '"' -> "&quot;";
                case '\'' -> "&#39;";
                default -> null;
            };
            if (r != null) {
                if (sb == null) {
                    sb = new StringBuilder(s.length() + 16).append(s, 0, i);
                }
                sb.append(r);
            } else if (sb != null) {
                sb.append(c);
            }
        }
        return sb == null ? s : sb.toString();
    }
}
