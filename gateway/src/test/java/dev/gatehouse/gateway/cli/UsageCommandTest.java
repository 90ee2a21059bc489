package dev.gatehouse.gateway.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.gateway.Main;
import dev.gatehouse.gateway.usage.UsageLog;
import dev.gatehouse.gateway.usage.UsageRecord;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class UsageCommandTest {
    @TempDir
    Path dir;

    private static String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        return new String[]{String.valueOf(code), out.toString(), err.toString()};
    }

    @Test
    void summarisesTheLogTheServerWrote() {
        Path db = dir.resolve("gatehouse.db");
        try (UsageLog log = UsageLog.open(db)) {
            Instant at = Instant.parse("2026-12-01T12:00:00Z");
            log.record(new UsageRecord(at, "/v1/chat/completions", "key_a", null, "chat", "openai:gpt-4o-mini",
                    1000, 500, 0.00045, 800, 200, "local:tiny (queue wait 3000 ms)", false));
            log.record(new UsageRecord(at, "/v1/chat/completions", "key_a", null, "chat", "local:tiny", 10, 5, 0, 90,
                    200, "", false));
        }
        String[] byBackend = run("usage", "--db", db.toString(), "--group-by", "backend", "--from", "2026-12-01");
        assertEquals("0", byBackend[0], byBackend[2]);
        assertTrue(byBackend[1].contains("openai:gpt-4o-mini") && byBackend[1].contains("0.000450"), byBackend[1]);
        String[] empty = run("usage", "--db", db.toString(), "--to", "2026-11-01");
        assertTrue(empty[1].contains("no requests"), empty[1]);
        String[] missing = run("usage", "--db", dir.resolve("typo.db").toString());
        assertEquals("1", missing[0]);
        assertTrue(missing[2].contains("no store at"), missing[2]);
        assertFalse(java.nio.file.Files.exists(dir.resolve("typo.db")), "reading never creates a store");
        String[] bad = run("usage", "--db", db.toString(), "--group-by", "colour");
        assertEquals("1", bad[0]);
        assertTrue(bad[2].contains("key, model or backend"), bad[2]);
    }
}
