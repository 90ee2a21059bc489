package dev.gatehouse.serving.constrain;

import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.util.List;

/** Validates a document against a JSON Schema with networknt's validator (formats asserted), not with our own code. */
public final class SchemaCheck {
    private static final SchemaRegistry REGISTRY = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);

    private final Schema schema;

    public SchemaCheck(String schemaJson) {
        this.schema = REGISTRY.getSchema(schemaJson, InputFormat.JSON);
    }

    /** The validator's complaints; empty when {@code json} is valid. A text that is not JSON throws. */
    public List<String> errors(String json) {
        List<Error> errors = schema.validate(json, InputFormat.JSON,
                ctx -> ctx.executionConfig(c -> c.formatAssertionsEnabled(true)));
        return errors.stream().map(Error::toString).toList();
    }
}
