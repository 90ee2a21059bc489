package dev.gatehouse.gateway.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class KeysCommandTest {
    @TempDir
    Path dir;

    @Test
    void createListRevoke() {
        String db = dir.resolve("gatehouse.db").toString();
        CliRun created = CliRun.run("keys", "--db", db, "create", "--name", "cli", "--models", "a,b");
        assertEquals(0, created.code(), created.err());
        Matcher id = Pattern.compile("id:\\s+(\\S+)").matcher(created.out());
        Matcher key = Pattern.compile("key:\\s+(\\S+)").matcher(created.out());
        assertTrue(id.find() && key.find(), created.out());
        CliRun list = CliRun.run("keys", "--db", db, "list");
        assertTrue(list.out().contains(id.group(1)) && list.out().contains("a,b"), list.out());
        assertFalse(list.out().contains(key.group(1)));
        assertEquals(0, CliRun.run("keys", "--db", db, "revoke", id.group(1)).code());
        assertEquals(1, CliRun.run("keys", "--db", db, "revoke", id.group(1)).code());
        assertFalse(CliRun.run("keys", "--db", db, "list").out().contains(id.group(1)));
    }

    @Test
    void serveRefusesAnotherHostWithoutAMasterKey() {
        CliRun r = CliRun.run("serve", "--host", "0.0.0.0", "--port", "0", "--model-store", dir.resolve("models").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("GATEHOUSE_MASTER_KEY") && r.err().contains("gatehouse keys create"), r.err());
    }

    @Test
    @Timeout(60) // a serve that accepted the key would run until stopped
    void serveRefusesAShortMasterKey() throws Exception {
        Path config = Files.writeString(dir.resolve("gatehouse.yaml"), "auth: {master-key: short}\n");
        CliRun r = CliRun.run("serve", "--port", "0", "--config", config.toString(),
                "--model-store", dir.resolve("models").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("auth.master-key is 5 characters"), r.err());
    }

    @Test
    void loopbackIsAlwaysAllowed() {
        ServeCommand.requireSafeHost("127.0.0.1", null, false);
        ServeCommand.requireSafeHost("localhost", null, false);
        ServeCommand.requireSafeHost("0.0.0.0", "a-master-key", false);
        ServeCommand.requireSafeHost("0.0.0.0", null, true); // JWT auth is auth too
    }
}
