package io.gregor.broker.console;

import io.gregor.broker.console.ConsoleModel.BrokerRow;
import io.gregor.broker.console.ConsoleModel.Cluster;
import io.gregor.broker.console.ConsoleModel.ConfigRow;
import io.gregor.broker.console.ConsoleModel.GroupDetail;
import io.gregor.broker.console.ConsoleModel.GroupSummary;
import io.gregor.broker.console.ConsoleModel.HeaderRow;
import io.gregor.broker.console.ConsoleModel.MemberRow;
import io.gregor.broker.console.ConsoleModel.OffsetRow;
import io.gregor.broker.console.ConsoleModel.PartitionRow;
import io.gregor.broker.console.ConsoleModel.RecordPage;
import io.gregor.broker.console.ConsoleModel.RecordRow;
import io.gregor.broker.console.ConsoleModel.Shown;
import io.gregor.broker.console.ConsoleModel.TopicDetail;
import io.gregor.broker.console.ConsoleModel.TopicSummary;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** The console's HTML pages, each from the model values the JSON API also serves. */
final class Pages {
    private final int brokerId;
    private final String clusterId;

    Pages(int brokerId, String clusterId) {
        this.brokerId = brokerId;
        this.clusterId = clusterId;
    }

    private Html page(String title, String section) {
        return new Html(title, section, brokerId, clusterId);
    }

    String cluster(Cluster c) {
        Html h = page("Cluster", "Cluster").h1("Cluster");
        h.raw("<div class=\"cards\">").card("Cluster id", c.clusterId())
                .card("Controller", c.controllerId() < 0 ? "none" : "broker " + c.controllerId())
                .card("Brokers", c.brokers().size()).card("Topics", c.topics()).card("Partitions", c.partitions())
                .card("Consumer groups", c.groups()).raw("</div>");
        h.h2("Brokers").tableHead("#Id", "Host", "#Port", "Rack", "Role");
        for (BrokerRow b : c.brokers()) {
            h.raw("<tr>").tdNum(b.id()).td(b.host()).raw("<td class=\"num\">").text(b.port()).raw("</td>").td(b.rack() == null ? "–" : b.rack()).raw("<td>");
            if (b.controller()) {
                h.raw("<span class=\"badge blue\">controller</span>");
            }
            if (b.local()) {
                h.raw("<span class=\"badge green\">this broker</span>");
            }
            h.raw("</td></tr>");
        }
        h.tableEnd();
        h.h2("Listeners of this broker").raw("<table><tbody>");
        for (String l : c.listeners()) {
            h.raw("<tr><td class=\"mono\">").text(l).raw("</td></tr>");
        }
        h.tableEnd();
        h.raw("<p class=\"muted\">").text(c.zooKeeper()
                ? "Metadata comes from ZooKeeper; record sizes and offsets are shown for the partitions this broker hosts."
                : "A single broker without ZooKeeper: it leads every partition.").raw("</p>");
        return h.finish();
    }

    /** The topic list with the create form; {@code form} refills it after a refused create. */
    String topics(List<TopicSummary> topics, String notice, String problem, Map<String, String> form) {
        Html h = page("Topics", "Topics").h1("Topics").notice(notice).problem(problem);
        h.tableHead("Name", "#Partitions", "#Replication", "#Records", "#Size", "#Under-replicated");
        for (TopicSummary t : topics) {
            h.raw("<tr><td>").link("/topics/" + Html.enc(t.name()), t.name());
            if (t.internal()) {
                h.raw("<span class=\"badge\">internal</span>");
            }
            h.raw("</td>").tdNum(t.partitions()).tdNum(t.replicationFactor()).tdNum(t.records())
                    .tdBytes(t.sizeBytes()).tdNum(t.underReplicated()).raw("</tr>");
        }
        if (topics.isEmpty()) {
            h.raw("<tr><td colspan=\"6\" class=\"muted\">No topics yet.</td></tr>");
        }
        h.tableEnd();
        h.h2("Create a topic");
        h.raw("<form class=\"box\" method=\"post\" action=\"/topics\"><div class=\"row\">")
                .raw("<label>Name<input name=\"name\" required maxlength=\"249\" pattern=\"[a-zA-Z0-9._\\-]+\"")
                .attr("value", form.getOrDefault("name", "")).raw("></label>")
                .raw("<label>Partitions<input name=\"partitions\" type=\"number\" min=\"1\" placeholder=\"broker default\"")
                .attr("value", form.getOrDefault("partitions", "")).raw("></label>")
                .raw("<label>Replication factor<input name=\"replicationFactor\" type=\"number\" min=\"1\" placeholder=\"broker default\"")
                .attr("value", form.getOrDefault("replicationFactor", "")).raw("></label>")
                .raw("<label>Configs (one key=value a line)<textarea name=\"configs\" rows=\"2\" cols=\"36\" placeholder=\"cleanup.policy=compact\">")
                .text(form.getOrDefault("configs", "")).raw("</textarea></label>")
                .raw("<button type=\"submit\">Create topic</button></div></form>");
        return h.finish();
    }

    String topic(TopicDetail d, String notice, String problem) {
        TopicSummary t = d.summary();
        String base = "/topics/" + Html.enc(t.name());
        Html h = page(t.name(), "Topics").raw("<h1>").text(t.name());
        if (t.internal()) {
            h.raw("<span class=\"badge\">internal</span>");
        }
        h.raw("</h1>").notice(notice).problem(problem);
        h.raw("<div class=\"cards\">").card("Partitions", t.partitions()).card("Replication factor", t.replicationFactor())
                .card("Records", String.format("%,d", t.records())).card("Size", Html.bytes(t.sizeBytes()))
                .card("Topic id", t.topicId()).raw("</div>");
        h.h2("Partitions").tableHead("#Partition", "#Leader", "Replicas", "ISR", "#Size", "#Log start offset",
                "#Log end offset", "#High watermark", "#Records", "");
        for (PartitionRow p : d.partitions()) {
            h.raw("<tr>").tdNum(p.partition()).raw("<td class=\"num\">").text(p.leader() < 0 ? "none" : p.leader())
                    .raw("</td>").td(ids(p.replicas())).raw("<td>").text(ids(p.isr()));
            if (p.isr().size() < p.replicas().size()) {
                h.raw("<span class=\"badge amber\">under-replicated</span>");
            }
            h.raw("</td>").tdBytes(p.sizeBytes()).tdNum(p.logStartOffset()).tdNum(p.logEndOffset())
                    .tdNum(p.highWatermark()).tdNum(p.readable()).raw("<td>");
            if (p.hosted()) {
                h.link(base + "/records?partition=" + p.partition(), "Browse");
            } else {
                h.raw("<span class=\"muted\">not hosted here</span>");
            }
            h.raw("</td></tr>");
        }
        h.tableEnd();
        if (!t.internal()) {
            produceForm(h, base, t.partitions(), Map.of());
        }
        h.h2("Configs");
        List<ConfigRow> overrides = d.configs().stream().filter(ConfigRow::overridden).toList();
        if (overrides.isEmpty()) {
            h.raw("<p class=\"muted\">No overrides: every setting comes from the broker.</p>");
        } else {
            configTable(h, overrides);
        }
        h.raw("<details><summary>All ").text(d.configs().size()).raw(" settings in effect</summary>");
        configTable(h, d.configs());
        h.raw("</details>");
        if (!t.internal()) {
            h.h2("Delete this topic");
            h.raw("<form class=\"box danger\" method=\"post\"").attr("action", base + "/delete")
                    .raw("><div class=\"row\"><label class=\"check\"><input type=\"checkbox\" name=\"confirm\" value=\"yes\" required>")
                    .raw("Delete ").text(t.name()).raw(" and all its records</label>")
                    .raw("<button class=\"danger\" type=\"submit\">Delete topic</button></div></form>");
        }
        return h.finish();
    }

    private static void configTable(Html h, List<ConfigRow> rows) {
        h.tableHead("Name", "Value", "Source");
        for (ConfigRow c : rows) {
            h.raw("<tr><td class=\"mono\">").text(c.name()).raw("</td><td class=\"mono val\">")
                    .text(c.value() == null ? "" : c.value()).raw("</td><td>").text(source(c.source())).raw("</td></tr>");
        }
        h.tableEnd();
    }

    private static String source(String configSource) {
        return switch (configSource) {
            case "TOPIC_CONFIG" -> "topic override";
            case "STATIC_BROKER_CONFIG" -> "broker config";
            case "DEFAULT_CONFIG" -> "default";
            default -> configSource.toLowerCase().replace('_', ' ');
        };
    }

    private static void produceForm(Html h, String base, int partitions, Map<String, String> form) {
        h.h2("Produce a test record");
        h.raw("<form class=\"box\" method=\"post\"").attr("action", base + "/records").raw("><div class=\"row\">")
                .raw("<label>Partition<select name=\"partition\"><option value=\"\">by key / round-robin</option>");
        for (int p = 0; p < partitions; p++) {
            h.raw("<option").attr("value", p).raw(String.valueOf(p).equals(form.get("partition")) ? " selected>" : ">")
                    .text(p).raw("</option>");
        }
        h.raw("</select></label>")
                .raw("<label>Key<input name=\"key\" size=\"18\" placeholder=\"(none)\"").attr("value", form.getOrDefault("key", ""))
                .raw("></label>")
                .raw("<label>Value<textarea name=\"value\" rows=\"2\" cols=\"40\">").text(form.getOrDefault("value", ""))
                .raw("</textarea></label>")
                .raw("<label>Headers (one key=value a line)<textarea name=\"headers\" rows=\"2\" cols=\"26\">")
                .text(form.getOrDefault("headers", "")).raw("</textarea></label>")
                .raw("<button type=\"submit\">Produce</button></div></form>");
    }

    /** A page of records with the form that picks where it starts. */
    String records(RecordPage r, int partitions, Map<String, String> query, String notice, String problem,
                   Map<String, String> produceForm) {
        String base = "/topics/" + Html.enc(r.topic());
        Html h = page(r.topic() + "-" + r.partition(), "Topics").raw("<h1>").link(base, r.topic())
                .raw(" <span class=\"muted\">/ partition ").text(r.partition()).raw("</span></h1>")
                .notice(notice).problem(problem);
        h.raw("<form class=\"box\" method=\"get\"").attr("action", base + "/records").raw("><div class=\"row\">")
                .raw("<label>Partition<select name=\"partition\">");
        for (int p = 0; p < partitions; p++) {
            h.raw("<option").attr("value", p).raw(p == r.partition() ? " selected>" : ">").text(p).raw("</option>");
        }
        String format = query.getOrDefault("format", "auto");
        h.raw("</select></label>")
                .raw("<label>From offset<input name=\"offset\" type=\"number\" min=\"0\" size=\"10\"")
                .attr("value", query.containsKey("time") && !query.get("time").isEmpty() ? "" : r.from()).raw("></label>")
                .raw("<label>or from time (UTC)<input name=\"time\" placeholder=\"2026-01-31T12:00:00 or epoch ms\" size=\"26\"")
                .attr("value", query.getOrDefault("time", "")).raw("></label>")
                .raw("<label>Records<input name=\"limit\" type=\"number\" min=\"1\" max=\"500\" size=\"5\"")
                .attr("value", query.getOrDefault("limit", "50")).raw("></label>")
                .raw("<label>Show as<select name=\"format\">");
        for (String f : List.of("auto", "text", "hex")) {
            h.raw("<option").attr("value", f).raw(f.equals(format) ? " selected>" : ">").text(f).raw("</option>");
        }
        h.raw("</select></label><button type=\"submit\">Show</button></div></form>");
        h.raw("<p class=\"muted\">Log start offset ").text(r.logStartOffset()).raw(" · high watermark ")
                .text(r.highWatermark()).raw(" · showing ").text(r.records().size()).raw(" record(s) from offset ")
                .text(r.from()).raw("</p>");
        if (r.note() != null) {
            h.raw("<p class=\"muted\">").text(r.note()).raw("</p>");
        }
        h.tableHead("#Offset", "Timestamp (UTC)", "Key", "Value", "Headers");
        for (RecordRow rec : r.records()) {
            h.raw("<tr>").tdNum(rec.offset()).raw("<td class=\"mono\" style=\"white-space:nowrap\">")
                    .text(Html.time(rec.timestamp()));
            if (rec.timestampType().equals("LogAppendTime")) {
                h.raw("<span class=\"badge\">log append</span>");
            }
            h.raw("</td>");
            shown(h, rec.key(), -1);
            shown(h, rec.value(), rec.valueSize());
            h.raw("<td class=\"mono\">");
            for (HeaderRow header : rec.headers()) {
                h.raw("<div>").text(header.key()).raw(" = ").raw(header.value().hex() ? "<span class=\"hex\">" : "<span>")
                        .text(header.value().text() == null ? "null" : header.value().text()).raw("</span></div>");
            }
            h.raw("</td></tr>");
        }
        if (r.records().isEmpty()) {
            h.raw("<tr><td colspan=\"5\" class=\"muted\">No records here.</td></tr>");
        }
        h.tableEnd();
        String pageQuery = "&limit=" + Html.enc(query.getOrDefault("limit", "50")) + "&format=" + Html.enc(format);
        int limit = parseLimitOr50(query.get("limit"));
        h.raw("<div class=\"pager\">");
        if (r.from() > r.logStartOffset()) {
            long earlier = Math.max(r.logStartOffset(), r.from() - limit);
            h.link(base + "/records?partition=" + r.partition() + "&offset=" + earlier + pageQuery, "← Earlier");
        }
        if (r.nextOffset() < r.highWatermark()) {
            h.link(base + "/records?partition=" + r.partition() + "&offset=" + r.nextOffset() + pageQuery, "Later →");
        }
        h.link(base + "/records?partition=" + r.partition() + "&offset=" + Math.max(r.logStartOffset(),
                r.highWatermark() - limit) + pageQuery, "Newest");
        h.raw("</div>");
        produceForm(h, base, partitions, produceForm);
        return h.finish();
    }

    private static int parseLimitOr50(String s) {
        try {
            return s == null ? 50 : Math.max(1, Math.min(500, Integer.parseInt(s)));
        } catch (NumberFormatException e) {
            return 50;
        }
    }

    private static void shown(Html h, Shown s, int size) {
        if (s.text() == null) {
            h.raw("<td class=\"null\">null</td>");
            return;
        }
        h.raw(s.hex() ? "<td class=\"mono val hex\"" : "<td class=\"mono val\"");
        h.attr("title", s.hex() ? "hex" : "text").raw(">").text(s.text());
        if (size > RecordReader.MAX_SHOWN_BYTES) {
            h.raw(" <span class=\"muted\">… (").text(String.format("%,d", size)).raw(" bytes)</span>");
        }
        h.raw("</td>");
    }

    String groups(List<GroupSummary> groups) {
        Html h = page("Consumer groups", "Consumer groups").h1("Consumer groups");
        h.tableHead("Group", "State", "Protocol type", "#Members");
        for (GroupSummary g : groups) {
            h.raw("<tr><td>").link("/groups/" + Html.enc(g.groupId()), g.groupId()).raw("</td>").td(g.state())
                    .td(g.protocolType()).tdNum(g.members()).raw("</tr>");
        }
        if (groups.isEmpty()) {
            h.raw("<tr><td colspan=\"4\" class=\"muted\">No consumer groups coordinated by this broker.</td></tr>");
        }
        h.tableEnd();
        return h.finish();
    }

    String group(GroupDetail g) {
        Html h = page(g.groupId(), "Consumer groups").h1(g.groupId());
        h.raw("<div class=\"cards\">").card("State", g.state()).card("Members", g.members().size())
                .card("Partitions", g.offsets().size()).card("Total lag", String.format("%,d", g.totalLag()))
                .card("Assignor", g.protocol() == null || g.protocol().isEmpty() ? "–" : g.protocol()).raw("</div>");
        h.h2("Members").tableHead("Member id", "Client id", "Host", "Instance id", "Assigned partitions");
        Map<String, String> clientOf = g.members().stream()
                .collect(Collectors.toMap(MemberRow::memberId, MemberRow::clientId, (a, b) -> a));
        for (MemberRow m : g.members()) {
            h.raw("<tr><td class=\"mono\">").text(m.memberId()).raw("</td>").td(m.clientId()).td(m.clientHost())
                    .td(m.groupInstanceId() == null ? "–" : m.groupInstanceId())
                    .raw("<td class=\"mono\">").text(String.join(", ", m.assignment())).raw("</td></tr>");
        }
        if (g.members().isEmpty()) {
            h.raw("<tr><td colspan=\"5\" class=\"muted\">No members.</td></tr>");
        }
        h.tableEnd();
        h.h2("Offsets and lag").tableHead("Topic", "#Partition", "#Committed offset", "#End offset", "#Lag", "Consumer");
        for (OffsetRow o : g.offsets()) {
            h.raw("<tr><td>").link("/topics/" + Html.enc(o.topic()), o.topic()).raw("</td>").tdNum(o.partition())
                    .tdNum(o.committed()).tdNum(o.endOffset()).tdNum(o.lag())
                    .td(o.memberId() == null ? "–" : clientOf.getOrDefault(o.memberId(), o.memberId())).raw("</tr>");
        }
        if (g.offsets().isEmpty()) {
            h.raw("<tr><td colspan=\"6\" class=\"muted\">No committed offsets.</td></tr>");
        }
        h.tableEnd();
        return h.finish();
    }

    String api() {
        Html h = page("JSON API", "JSON API").h1("JSON API");
        h.raw("<p>The same data as these pages, as JSON. Errors are <code>{\"error\": \"…\"}</code> with a 4xx status.</p>");
        h.tableHead("Method", "Path", "What");
        String[][] rows = {
                {"GET", "/api/cluster", "cluster id, controller, brokers, listeners"},
                {"GET", "/api/topics", "every topic with partition count, size and records"},
                {"POST", "/api/topics", "create: {\"name\":\"t\",\"partitions\":3,\"replicationFactor\":1,\"configs\":{\"cleanup.policy\":\"compact\"}}"},
                {"GET", "/api/topics/{topic}", "partitions (leader, replicas, ISR, size, offsets) and configs"},
                {"DELETE", "/api/topics/{topic}", "delete the topic"},
                {"GET", "/api/topics/{topic}/records?partition=0&offset=0&limit=50&format=auto",
                        "records from an offset (or &timestamp=epoch-ms); format auto, text or hex"},
                {"POST", "/api/topics/{topic}/records", "produce: {\"partition\":0,\"key\":\"k\",\"value\":\"v\",\"headers\":{\"h\":\"x\"}}"},
                {"GET", "/api/groups", "consumer groups with state and member count"},
                {"GET", "/api/groups/{group}", "members, assignments, committed offsets and lag per partition"},
        };
        for (String[] r : rows) {
            h.raw("<tr>").td(r[0]).raw("<td class=\"mono\">");
            if (r[0].equals("GET") && !r[1].contains("{")) {
                h.link(r[1], r[1]);
            } else {
                h.text(r[1]);
            }
            h.raw("</td>").td(r[2]).raw("</tr>");
        }
        h.tableEnd();
        return h.finish();
    }

    String notFound(String message) {
        return page("Not found", "").h1("Not found").problem(message).raw("<p>").link("/", "Back to the cluster")
                .raw("</p>").finish();
    }

    String failed(String title, String message) {
        return page(title, "").h1(title).problem(message).raw("<p>").link("/", "Back to the cluster").raw("</p>").finish();
    }

    private static String ids(List<Integer> ids) {
        return ids.isEmpty() ? "–" : ids.stream().map(String::valueOf).collect(Collectors.joining(", "));
    }
}
