package dev.gatehouse.serving.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GenerationConfigTest {
    @TempDir
    Path dir;

    @Test
    void absentFileMeansNoEosIds() {
        assertEquals(List.of(), GenerationConfig.load(dir).eosTokenIds());
    }

    @Test
    void oneIdOrAList() throws IOException {
        Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": 7}");
        assertEquals(List.of(7), GenerationConfig.load(dir).eosTokenIds());
        Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": [128001, 128008, 128009]}");
        assertEquals(List.of(128001, 128008, 128009), GenerationConfig.load(dir).eosTokenIds());
        Files.writeString(dir.resolve("generation_config.json"), "{\"do_sample\": true}");
        assertEquals(List.of(), GenerationConfig.load(dir).eosTokenIds());
    }

    @Test
    void malformedFileIsNamed() throws IOException {
        Path file = dir.resolve("generation_config.json");
        Files.writeString(file, "{\"eos_token_id\": [1, 2");
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> GenerationConfig.load(dir));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }
}
