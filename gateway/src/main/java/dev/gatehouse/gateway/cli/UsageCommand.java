package dev.gatehouse.gateway.cli;

import dev.gatehouse.gateway.usage.UsageLog;
import dev.gatehouse.gateway.usage.UsageQuery;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code gatehouse usage}: the usage log summarised, read from the same store the server writes. */
@Command(name = "usage", mixinStandardHelpOptions = true,
        description = "Summarise requests, tokens and cost from the usage log.")
public final class UsageCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--db", description = "An SQLite store (default: the store of --config, else data/gatehouse.db).")
    Path db;

    @Option(names = "--config", description = "gatehouse.yaml, read for store (path or jdbc-url).")
    Path config;

    @Option(names = "--from", description = "First day or instant, e.g. 2026-12-01 (default: the beginning).")
    String from;

    @Option(names = "--to", description = "Day or instant to stop before (default: now).")
    String to;

    @Option(names = "--group-by", defaultValue = "key", description = "key, user, model, backend or rule (default: ${DEFAULT-VALUE}).")
    String groupBy;

    @Override
    public Integer call() {
        UsageQuery q = UsageQuery.parse(from, to, groupBy, Instant.now());
        List<UsageLog.Summary> rows;
        try (UsageLog log = UsageLog.open(StoreChoice.existing(db, config))) {
            rows = log.summary(q.from(), q.to(), q.groupBy());
        }
        PrintWriter out = spec.commandLine().getOut();
        out.printf("%-32s %9s %7s %13s %13s %12s %10s%n", q.groupBy().name().toLowerCase(Locale.ROOT), "requests",
                "errors", "prompt_tok", "compl_tok", "cost_usd", "avg_ms");
        for (UsageLog.Summary s : rows) {
            out.printf(Locale.ROOT, "%-32s %9d %7d %13d %13d %12.6f %10.0f%n", s.group() == null ? "-" : s.group(),
                    s.requests(), s.errors(), s.promptTokens(), s.completionTokens(), s.costUsd(), s.averageLatencyMillis());
        }
        if (rows.isEmpty()) {
            out.println("(no requests between " + q.from() + " and " + q.to() + ")");
        }
        return 0;
    }
}
