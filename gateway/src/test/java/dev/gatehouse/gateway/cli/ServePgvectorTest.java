package dev.gatehouse.gateway.cli;

import dev.gatehouse.gateway.store.TestPgvector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code gatehouse serve} with the semantic cache on and a PostgreSQL store. */
class ServePgvectorTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(120) // a serve that started would run until stopped
    void aStoreWithoutPgvectorIsRefusedAtStartSayingWhy() throws Exception {
        try (TestPgvector plain = TestPgvector.startWithoutPgvector(dir)) {
            Path config = Files.writeString(dir.resolve("gatehouse.yaml"), "store:\n  jdbc-url: '" + plain.store().jdbcUrl()
                    + "'\n  user: postgres\nsemantic-cache:\n  models: [assistant]\n");

            CliRun r = CliRun.run("serve", "--port", "0", "--config", config.toString(),
                    "--model-store", dir.resolve("models").toString());

            assertEquals(1, r.code(), r.err());
            assertTrue(r.err().contains("error: the semantic cache with a PostgreSQL store needs the pgvector extension")
                    && r.err().contains("install pgvector 0.8 or newer"), r.err());
        }
    }
}
