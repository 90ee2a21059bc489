package dev.gatehouse.gateway.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

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
}
