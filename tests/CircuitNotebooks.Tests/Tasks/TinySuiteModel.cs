using CircuitNotebooks.Models;
using CircuitNotebooks.Tasks;

namespace CircuitNotebooks.Tests.Tasks;

/// <summary>An untrained model over the tiny suite's word-level vocabulary, with its tokenizer (the default model's shape, smaller).</summary>
public static class TinySuiteModel
{
    public static ModelConfig Config => new()
    {
        Architecture = Architecture.GptNeoX, NLayers = 2, DModel = 32, NHeads = 4, DMlp = 64,
        DVocab = TinySuite.Vocabulary.Count, NCtx = 64, Act = Activation.Gelu, Rotary = true, RotaryDim = 4,
        ParallelAttnMlp = true,
    };

    public static HookedTransformer CreateUntrained(int seed, ModelConfig? config = null)
    {
        var model = HookedTransformer.Create(config ?? Config, seed);
        model.Tokenizer = CreateTokenizer();
        return model;
    }

    public static ITokenizer CreateTokenizer()
    {
        var dir = Directory.CreateTempSubdirectory("cn-tok-");
        try
        {
            WordLevelTokenizerWriter.Write(dir.FullName, TinySuite.Vocabulary, TinySuite.Unk, TinySuite.Bos, TinySuite.Eos,
                TinySuite.Pad, WordSplit.Whitespace);
            return HfTokenizer.Load(dir.FullName);
        }
        finally { dir.Delete(true); }
    }
}
