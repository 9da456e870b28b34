using CircuitNotebooks.Models;
using CircuitNotebooks.Patching;

namespace CircuitNotebooks.Tasks;

/// <summary>The properties DCM tests a head group for (Prakash et al. §4).</summary>
public enum EntityDesideratum
{
    /// <summary>The group carries the queried segment's position: patched from a source whose query sits at segment j,
    /// the model should answer the base prompt's object at segment j.</summary>
    Positional,
    /// <summary>The group carries the answer object itself: the model should answer the source prompt's object.</summary>
    ObjectValue,
    /// <summary>The group carries the queried box label: the source asks about another box label of the base
    /// prompt, and the model should answer the base object in that box.</summary>
    BoxLabelValue,
}

/// <summary>
/// One DCM example: base and source prompts with their queried boxes, and the target the model should output on the
/// base prompt if the patched group encodes the desideratum's property.
/// </summary>
public sealed record DesiderataExample(string Base, string BaseQueryBox, string BaseAnswer, string Source, string SourceQueryBox,
    string SourceAnswer, string Target);

/// <summary>
/// Counterfactual datasets for DCM built like Prakash et al.'s desiderata, with one refinement: sources are drawn so
/// the three hypotheses predict different answers wherever the vocabularies allow it (source objects and labels
/// disjoint from the base's; for the box-label desideratum the source's query segment differs from both the base's
/// query segment and the segment of the label it asks about), so a selected head cannot pass by confounding.
/// </summary>
public static class EntityDesiderata
{
    public static IReadOnlyList<DesiderataExample> Generate(EntityTrackingOptions options, EntityDesideratum kind, int count, int seed,
        PromptTemplate template)
    {
        options.Validate();
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        int n = options.NumBoxes;
        if (kind == EntityDesideratum.BoxLabelValue && n < 3)
            throw new ArgumentException($"The box-label desideratum needs NumBoxes ≥ 3 to separate it from the positional one (got {n}).");
        var objects = options.EffectiveObjects;
        var labels = options.EffectiveBoxLabels;
        var rng = new Random(seed);
        var result = new List<DesiderataExample>(count);
        for (int i = 0; i < count; i++)
        {
            var bObj = Sample(rng, objects, n, []);
            var bBox = Sample(rng, labels, n, []);
            int qb = rng.Next(n);
            var sObj = Sample(rng, objects, n, objects.Count >= 2 * n ? bObj : []);
            string[] sBox;
            int qs;
            string target;
            if (kind == EntityDesideratum.BoxLabelValue)
            {
                int k = Other(rng, n, qb);
                qs = Enumerable.Range(0, n).Where(j => j != k && j != qb).ElementAt(rng.Next(n - 2));
                sBox = Sample(rng, labels, n, labels.Count >= 2 * n ? bBox : [bBox[k]]);
                sBox[qs] = bBox[k];
                target = bObj[k];
            }
            else
            {
                qs = Other(rng, n, qb);
                sBox = Sample(rng, labels, n, labels.Count >= 2 * n ? bBox : []);
                target = kind == EntityDesideratum.Positional ? bObj[qs] : sObj[qs];
            }
            result.Add(new DesiderataExample(
                template.Apply(TaskFamily.EntityTracking, EntityTrackingGenerator.Render(bObj, bBox, bBox[qb])), bBox[qb], bObj[qb],
                template.Apply(TaskFamily.EntityTracking, EntityTrackingGenerator.Render(sObj, sBox, sBox[qs])), sBox[qs], sObj[qs],
                target));
        }
        return result;
    }

    /// <summary>Base batch (labels = targets) and source batch (labels = the source's own answers), with entity roles.</summary>
    public static DesiderataPair ToPair(HookedTransformer model, IReadOnlyList<DesiderataExample> examples)
    {
        var b = EntityTrackingBatches.FromPrompts(model, examples.Select(e => e.Base).ToList(),
            examples.Select(e => e.BaseQueryBox).ToList(), examples.Select(e => e.Target).ToList());
        var s = EntityTrackingBatches.FromPrompts(model, examples.Select(e => e.Source).ToList(),
            examples.Select(e => e.SourceQueryBox).ToList(), examples.Select(e => e.SourceAnswer).ToList());
        return new DesiderataPair(b, s);
    }

    /// <summary>
    /// DCM of one head group for one desideratum: trains on <paramref name="trainCount"/> generated examples and
    /// selects the mask on <paramref name="evalCount"/> others (seeds seed and seed + 1).
    /// </summary>
    public static DcmResult Run(HookedTransformer model, HeadGroup group, EntityDesideratum kind, EntityTrackingOptions taskOptions,
        PromptTemplate template, int trainCount = 512, int evalCount = 256, int seed = 0, DcmOptions? options = null)
    {
        using var train = ToPair(model, Generate(taskOptions, kind, trainCount, seed, template));
        using var eval = ToPair(model, Generate(taskOptions, kind, evalCount, seed + 1, template));
        return DesiderataMasking.Train(model, group.Heads, group.Position, train, eval, options);
    }

    private static int Other(Random rng, int n, int not)
    {
        int j = rng.Next(n - 1);
        return j >= not ? j + 1 : j;
    }

    private static string[] Sample(Random rng, IReadOnlyList<string> vocab, int n, IReadOnlyCollection<string> exclude)
    {
        var pool = vocab.Where(v => !exclude.Contains(v)).ToArray();
        if (pool.Length < n) throw new ArgumentException($"Need {n} distinct entries outside {exclude.Count} excluded ones, vocabulary has {vocab.Count}.");
        for (int i = 0; i < n; i++)
        {
            int j = rng.Next(i, pool.Length);
            (pool[i], pool[j]) = (pool[j], pool[i]);
        }
        return pool.Take(n).ToArray();
    }
}
