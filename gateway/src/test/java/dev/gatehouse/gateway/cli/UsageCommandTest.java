package dev.gatehouse.gateway.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.gateway.usage.UsageLog;
import dev.gatehouse.gateway.usage.UsageRecord;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UsageCommandTest {
    @TempDir
    Path dir;


    @Test
    void summarisesTheLogTheServerWrote() {
        Path db = dir.resolve("gatehouse.db");
        try (UsageLog log = UsageLog.open(db)) {
            Instant at = Instant.parse("2026-12-01T12:00:00Z");
            log.record(new UsageRecord(at, "/v1/chat/completions", "key_a", null, "chat", "openai:gpt-4o-mini",
                    1000, 500, 0.00045, 800, 200, "local:tiny (queue wait 3000 ms)", false, "chat:default"));
            log.record(new UsageRecord(at, "/v1/chat/completions", "key_a", null, "chat", "local:tiny", 10, 5, 0, 90,
                    200, "", false, "chat:eu"));
        }
        CliRun byBackend = CliRun.run("usage", "--db", db.toString(), "--group-by", "backend", "--from", "2026-12-01");
        assertEquals(0, byBackend.code(), byBackend.err());
        assertTrue(byBackend.out().contains("openai:gpt-4o-mini") && byBackend.out().contains("0.000450"), byBackend.out());
        CliRun empty = CliRun.run("usage", "--db", db.toString(), "--to", "2026-11-01");
        assertTrue(empty.out().contains("no requests"), empty.out());
        CliRun missing = CliRun.run("usage", "--db", dir.resolve("typo.db").toString());
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("no store at"), missing.err());
        assertFalse(java.nio.file.Files.exists(dir.resolve("typo.db")), "reading never creates a store");
        CliRun bad = CliRun.run("usage", "--db", db.toString(), "--group-by", "colour");
        assertEquals(1, bad.code());
        assertTrue(bad.err().contains("key, user, model, backend or rule"), bad.err());
        CliRun byRule = CliRun.run("usage", "--db", db.toString(), "--group-by", "rule", "--from", "2026-12-01");
        assertEquals(0, byRule.code(), byRule.err());
        assertTrue(byRule.out().contains("chat:default") && byRule.out().contains("chat:eu"), byRule.out());
    }
}
