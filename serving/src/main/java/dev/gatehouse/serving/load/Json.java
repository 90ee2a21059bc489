package dev.gatehouse.serving.load;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reads the JSON files of a model folder, turning every failure into a message that names the file. */
public final class Json {
    public static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {}

    public static JsonNode read(Path file) {
        try {
            return MAPPER.readTree(file.toFile());
        } catch (NoSuchFileException e) {
            throw new ModelLoadException("missing file " + file);
        } catch (JsonProcessingException e) {
            throw new ModelLoadException("cannot parse " + file + ": " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            if (!Files.exists(file)) {
                throw new ModelLoadException("missing file " + file);
            }
            throw new ModelLoadException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    public static JsonNode readIfExists(Path file) {
        return Files.exists(file) ? read(file) : MAPPER.createObjectNode();
    }
}
