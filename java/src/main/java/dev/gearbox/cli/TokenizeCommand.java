package dev.gearbox.cli;

import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.gguf.GGUFFormatException;
import dev.gearbox.tokenizer.Tokenizer;
import dev.gearbox.tokenizer.Tokenizers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code gearbox tokenize}: the token ids of a text, as a JSON array. Reads only the vocabulary. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = {"Prints the token ids of TEXT as a JSON array.",
                "BOS/EOS are added as the model's metadata says.",
                "Text that spells a special token (e.g. <s>, <|im_start|>) becomes that token unless --no-special."})
final class TokenizeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "FILE", description = "GGUF model (or vocabulary-only) file.")
    Path model;

    @Option(names = "--no-special", description = "Treat special-token text as plain text.")
    boolean noSpecial;

    @Parameters(index = "0", paramLabel = "TEXT", description = "The text to tokenize.")
    String text;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(model)) throw new GGUFFormatException(model, -1, Files.exists(model) ? "not a regular file" : "no such file");
        try (GGUFFile f = GGUFFile.open(model)) {
            Tokenizer tok = Tokenizers.fromGGUF(f);
            int[] ids = tok.encode(text, true, !noSpecial);
            spec.commandLine().getOut().println(Json.MAPPER.writeValueAsString(ids));
            spec.commandLine().getOut().flush();
        }
        return Main.EXIT_OK;
    }
}
