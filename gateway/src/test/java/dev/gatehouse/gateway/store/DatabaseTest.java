package dev.gatehouse.gateway.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.gateway.config.StoreConfig;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.sql.SQLException;
import java.time.Duration;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatabaseTest {
    @TempDir
    Path dir;

    @Test
    void sqliteFileIsCreatedWithItsFolderAndInWalMode() throws Exception {
        Database db = Database.sqlite(dir.resolve("sub/g.db"));
        assertFalse(db.postgres());
        assertEquals("BLOB", db.bytesType());
        try (Connection opened = db.connect();
             Connection other = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("sub/g.db"));
             ResultSet r = other.createStatement().executeQuery("PRAGMA journal_mode")) {
            r.next();
            assertEquals("wal", r.getString(1)); // the CLI can write while the server reads
        }
    }

    @Test
    void aServerThatTakesTheConnectionAndNeverAnswersFailsAfterTheConnectTimeout() throws Exception {
        // a listening socket nobody reads: the kernel completes the handshake, then nothing is ever said
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Database db = Database.of(StoreConfig.postgres("jdbc:postgresql://127.0.0.1:" + silent.getLocalPort()
                    + "/gatehouse", "gatehouse", null).withTimeouts(1_000, 1_000));
            long start = System.nanoTime();
            SQLException e = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> assertThrows(SQLException.class, db::connect));
            long seconds = Duration.ofNanos(System.nanoTime() - start).toSeconds();
            assertTrue(seconds < 10, "gave up after " + seconds + " s: " + e);
        }
    }
}
