using CircuitNotebooks.Patching;
using Xunit;
using static TorchSharp.torch;

namespace CircuitNotebooks.Tests.Patching;

public class PromptBatchTests
{
    private static readonly long[] Mask = [1, 1, 1, 0, 0, 1, 1, 1]; // row 0 right-padded, row 1 left-padded

    [Fact]
    public void LastIsTheLastRealTokenAndSelectKeepsRolesRowForRow()
    {
        using var scope = NewDisposeScope();
        using var b = new PromptBatch(arange(8L).reshape(2, 4), tensor(Mask, [2, 4]), [5, 6],
            new Dictionary<string, int[]> { ["x"] = [0, 2] });
        Assert.Equal([2, 3], b.PositionsOf(PromptBatch.Last));
        using var s = b.Select([1, 0]);
        Assert.Equal([2, 0], s.PositionsOf("x"));
        Assert.Equal([3, 2], s.PositionsOf(PromptBatch.Last));
        Assert.Equal([6L, 5], s.Labels);
        Assert.Equal(new long[] { 4, 5, 6, 7, 0, 1, 2, 3 }, s.Tokens.data<long>().ToArray());
        Assert.Contains("Roles: last, x", Assert.Throws<KeyNotFoundException>(() => b.PositionsOf("y")).Message);
    }

    [Fact]
    public void CorrectRowsAreThoseWhoseArgmaxIsTheLabel()
    {
        using var scope = NewDisposeScope();
        using var model = CircuitNotebooks.Tests.Models.ModelFixtures.RandomModel("gpt2");
        var tokens = arange(12L).reshape(3, 4);
        var mask = tensor(new long[] { 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0 }, [3, 4]);
        long[] argmax;
        using (no_grad())
        {
            var logits = model.Forward(tokens, mask);
            argmax = [logits[0, 3].argmax().item<long>(), logits[1, 1].argmax().item<long>(), logits[2, 2].argmax().item<long>()];
        }
        using var b = new PromptBatch(tokens, mask, [argmax[0], (argmax[1] + 1) % 40, argmax[2]]);
        Assert.Equal([0, 2], b.CorrectRows(model));
        Assert.Equal(2 / 3.0, b.Accuracy(model), 6);
    }

    [Fact]
    public void BadShapesAndPaddedRolePositionsAreRejected()
    {
        using var scope = NewDisposeScope();
        var tokens = arange(8L).reshape(2, 4);
        var mask = tensor(Mask, [2, 4]);
        Assert.Contains("3 labels for 2 rows", Assert.Throws<ArgumentException>(() => new PromptBatch(tokens, mask, [1, 2, 3])).Message);
        var padded = Assert.Throws<ArgumentException>(() => new PromptBatch(tokens, mask, [1, 2], new Dictionary<string, int[]> { ["x"] = [3, 1] }));
        Assert.Contains("role 'x', row 0: index 3 is not a real token", padded.Message);
        Assert.Throws<ArgumentException>(() => new PromptBatch(tokens, mask, [1, 2], new Dictionary<string, int[]> { ["x"] = [1] }));
        Assert.Throws<ArgumentException>(() => new PromptBatch(tokens.to_type(ScalarType.Int32), null, [1, 2]));
    }
}
