"""``pmc15m train / evaluate / export`` end to end, and the export loaded by transformers alone.

The data are synthetic figures of four colours with captions naming the colour, so a tiny
model learns something that zero-shot classification from class names can show.
"""

from __future__ import annotations

import io
import json
import random
import shutil

import pytest
import torch
from PIL import Image
from support.cli_support import cli_error, refused
from support.train_support import COLORS, TINY, color_image, one_thread, write_shards

from pipelines.cli.main import main

FORMS = ("a {} square", "{} colour", "a figure that is {}", "an image filled with {}")


@pytest.fixture(scope="module")
def colour_data(tmp_path_factory):
    root, rng = tmp_path_factory.mktemp("colours"), random.Random(0)
    samples = [
        (f"k{i:03d}_{name}", {"jpg": color_image(rgb, rng), "txt": FORMS[i % 4].format(name).encode()})
        for i in range(16)
        for name, rgb in COLORS.items()
    ]
    rng.shuffle(samples)
    write_shards(root / "train", samples, 2)
    test = write_shards(root / "test", samples[:16], 1)
    for name, rgb in COLORS.items():
        (root / "zeroshot" / name).mkdir(parents=True)
        for j in range(5):
            (root / "zeroshot" / name / f"{j}.jpg").write_bytes(color_image(rgb, rng))
    (root / "zeroshot" / "red" / "notes.txt").write_text("not an image")
    (root / "zeroshot" / "red" / "broken.jpg").write_bytes(b"\xff\xd8\xff broken")
    return {"train": str(root / "train" / "{00000..00001}.tar"), "test": str(test[0]), "root": root}


def _tiny_flags() -> list[str]:
    flags = []
    for name in ("vision", "text", "image_size", "context_length", "projection_dim"):
        flags += [f"--{name}", str(TINY[name])]
    return flags


@pytest.fixture(scope="module")
def trained_run(colour_data, tmp_path_factory):
    run = tmp_path_factory.mktemp("run") / "run"
    argv = ["train", "--data", colour_data["train"], "--output", str(run), "--tokenizer_vocab", "200"]
    argv += [*_tiny_flags(), "--batch_size", "16", "--steps", "30", "--warmup", "2", "--lr", "1e-3"]
    argv += ["--workers", "1", "--log_every", "10"]
    with one_thread():
        assert main(argv) == 0
    return run


def test_train_writes_checkpoint_tokenizer_and_metrics(trained_run, capsys):
    metrics = [json.loads(line) for line in (trained_run / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics] == [10, 20, 30]
    assert metrics[-1]["loss"] < metrics[0]["loss"]
    assert all(m["lr"] >= 0 and m["logit_scale"] > 1 and m["samples_per_s"] > 0 for m in metrics)
    assert (trained_run / "checkpoints" / "step_00000030.pt").is_file()
    assert (trained_run / "tokenizer" / "tokenizer.json").is_file()


def test_evaluate_reports_retrieval_and_zero_shot(trained_run, colour_data, capsys, tmp_path):
    report_path = tmp_path / "report.json"
    argv = ["evaluate", "--model", str(trained_run), "--data", colour_data["test"], "--workers", "0"]
    argv += ["--zeroshot", str(colour_data["root"] / "zeroshot"), "--report", str(report_path)]
    with one_thread():
        assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == json.loads(report_path.read_text())
    assert report["retrieval"]["pairs"] == 16
    assert set(report["retrieval"]["image_to_text"]) == {"1", "5", "10"}
    zero = report["zeroshot"]
    assert zero["images"] == 20 and zero["skipped"] == 1  # the broken JPEG; notes.txt is no image
    assert zero["top1"] >= 0.9, zero
    assert zero["top5"] is None  # four classes


def test_export_loads_back_with_transformers_alone(trained_run, tmp_path, capsys):
    from transformers import VisionTextDualEncoderModel, VisionTextDualEncoderProcessor

    from pmc15m.train.export import load_trained

    assert main(["export", "--model", str(trained_run), "--output", str(tmp_path / "hf")]) == 0
    model = VisionTextDualEncoderModel.from_pretrained(tmp_path / "hf").eval()
    processor = VisionTextDualEncoderProcessor.from_pretrained(tmp_path / "hf")
    rng = random.Random(7)
    images = [Image.open(io.BytesIO(color_image(rgb, rng))) for rgb in COLORS.values()]
    prompts = [f"a {name} square" for name in COLORS]  # worded like the training captions
    inputs = processor(text=prompts, images=images, return_tensors="pt", padding=True)
    with torch.no_grad():
        logits = model(**inputs).logits_per_image
    assert logits.argmax(dim=1).tolist() == [0, 1, 2, 3]  # each colour finds its own name
    ours = load_trained(str(trained_run)).model
    with torch.no_grad():
        theirs = torch.nn.functional.normalize(model.get_image_features(inputs["pixel_values"]).pooler_output)
        assert torch.allclose(ours.encode_image(inputs["pixel_values"]), theirs, atol=1e-5)


def test_bad_arguments_are_one_line_errors(capsys, tmp_path, trained_run, colour_data):
    flags = _tiny_flags()
    shard = tmp_path / "x.tar"
    shard.write_bytes(b"")  # a shard, but no sizes.json beside it
    run = str(tmp_path / "run")
    assert "sizes.json" in cli_error(capsys, ["train", "--data", str(shard), "--output", run, *flags])
    assert "no shard file" in cli_error(capsys, ["train", "--data", str(tmp_path / "y.tar"), "--output", run])
    assert "--resume" in cli_error(
        capsys,
        [
            "train",
            "--data",
            colour_data["train"],
            "--output",
            str(trained_run),
            "--tokenizer_vocab",
            "50",
            *flags,
        ],
    )
    assert "--data" in cli_error(capsys, ["evaluate", "--model", str(trained_run)])
    assert "no checkpoint" in cli_error(
        capsys, ["export", "--model", str(tmp_path), "--output", str(tmp_path / "o")]
    )
    argv = ["train", "--data", str(shard), "--output", run, "--batch_size", "0"]
    assert "positive" in cli_error(capsys, argv)
    argv = ["export", "--model", "m", "--output", str(tmp_path / "o"), "--bogus"]
    assert "unrecognized" in cli_error(capsys, argv)


def test_train_benchmark_reports_the_largest_batch_and_mfu(tmp_path, capsys):
    report = tmp_path / "bench.json"
    argv = ["train-benchmark", *_tiny_flags(), "--vocab_size", "100", "--batch_sizes", "4,2"]
    argv += ["--steps", "1", "--warmup_steps", "1", "--variants", "plain,ckpt", "--peak_tflops", "2"]
    with one_thread():
        assert main([*argv, "--report", str(report)]) == 0
    table = capsys.readouterr().out
    result = json.loads(report.read_text())
    rows = result["rows"]
    assert [(r["compile"], r["checkpointing"]) for r in rows] == [(False, False), (False, True)]
    assert all(r["batch_size"] == 4 and set(r["tried"]) == {"2", "4"} for r in rows)  # nothing ran out
    flops = result["facts"]["gflops_per_sample"] * 1e9
    for row in rows:
        assert row["mfu"] == pytest.approx(row["samples_per_s"] * flops / 2e12)
        assert f"| 4 | {row['samples_per_s']:.1f} |" in table
    assert table.count("\n| no |") == 2 and "GFLOP per training sample" in table


def test_device_and_tower_errors_are_one_line(capsys, tmp_path):
    flags = _tiny_flags()
    assert "only cpu and cuda" in cli_error(capsys, ["train-benchmark", *flags, "--device", "meta"])
    assert "choose from" in cli_error(capsys, ["train-benchmark", "--variants", "fast"])
    missing = str(tmp_path / "no-such-vit")
    argv = ["train-benchmark", *flags, "--vision", missing, "--device", "cpu"]
    assert "no such folder" in cli_error(capsys, argv)
    (tmp_path / "x.tar").write_bytes(b"")
    assert "not a device" in cli_error(
        capsys, ["evaluate", "--model", str(tmp_path), "--data", str(tmp_path / "x.tar"), "--device", "gpu!"]
    )


def _unreadable_model(kind: str, root, trained_run) -> str:
    """A ``--model`` that is no usable model, as a user might point at by mistake."""
    path = root / "model"
    if kind == "empty file":
        path.write_bytes(b"")
    elif kind == "text file":
        path.write_text("not a checkpoint\n")
    elif kind == "tensors, not a checkpoint":
        torch.save({"weights": torch.zeros(2)}, path)
    elif kind == "a list":
        torch.save([1, 2], path)
    elif kind == "cut short":
        whole = next((trained_run / "checkpoints").glob("*.pt")).read_bytes()
        path.write_bytes(whole[: len(whole) // 2])
    elif kind == "folder without checkpoint":
        path.mkdir()
    elif kind == "run without tokenizer":
        shutil.copytree(trained_run / "checkpoints", path / "checkpoints")
    elif kind == "export without weights":
        path.mkdir()
        (path / "config.json").write_text(json.dumps({"model_type": "vision-text-dual-encoder"}))
    return str(path)


@pytest.mark.parametrize("command", ["evaluate", "export"])
@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("empty file", "model is not a readable checkpoint (empty or cut short)"),
        ("text file", "model is not a readable checkpoint (not a PyTorch file of plain tensors)"),
        ("tensors, not a checkpoint", "model is not a checkpoint of pmc15m train (no model, architecture"),
        ("a list", "model is not a checkpoint of pmc15m train"),
        ("cut short", "model is not a readable checkpoint (RuntimeError: "),
        ("folder without checkpoint", "no checkpoint at "),
        ("run without tokenizer", "has no tokenizer beside it: "),
        ("export without weights", "cannot load the exported model in "),
    ],
)
def test_unreadable_models_are_one_line_errors(
    capsys, tmp_path, trained_run, colour_data, command, kind, message
):
    """torch.load's EOFError, UnpicklingError ... and the KeyErrors of a state that is not a
    checkpoint used to reach the user as tracebacks; export must write nothing either."""
    model = _unreadable_model(kind, tmp_path, trained_run)
    if command == "evaluate":
        zeroshot = str(colour_data["root"] / "zeroshot")
        argv = ["evaluate", "--model", model, "--zeroshot", zeroshot, "--device", "cpu"]
    else:
        argv = ["export", "--model", model, "--output", str(tmp_path / "hf")]
    err = refused(capsys, argv, tmp_path)
    assert message in err and model in err, err


def test_resume_from_a_damaged_checkpoint_is_a_one_line_error(capsys, tmp_path, colour_data):
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    (tmp_path / "run" / "checkpoints" / "step_00000010.pt").write_bytes(b"PK\x03\x04 cut")
    argv = ["train", "--data", colour_data["train"], "--output", str(tmp_path / "run"), "--resume"]
    err = refused(capsys, [*argv, *_tiny_flags(), "--tokenizer_vocab", "50"], tmp_path)
    assert "step_00000010.pt is not a readable checkpoint" in err


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--tokenizer", "{tmp}/no-tokenizer"], "cannot load tokenizer '{tmp}/no-tokenizer'"),
        (["--tokenizer_vocab", "50", "--vision", "{tmp}/no-vit"], "--vision '{tmp}/no-vit': no such folder"),
        (["--tokenizer_vocab", "50", "--text", "{tmp}/empty"], "--text '{tmp}/empty': cannot load"),
        (["--tokenizer_vocab", "50", "--batch_size", "100"], "hold 64 samples (sizes.json), fewer than one"),
        (
            ["--tokenizer_vocab", "50", "--image_size", "4"],
            "--image_size 4 is smaller than one vit-tiny patch",
        ),
        (
            ["--tokenizer_vocab", "50", "--compile", "bogus"],
            "--compile 'bogus': no such torch.compile backend",
        ),
        (["--lr", "-1"], "argument --lr: must be 0 or more"),
        (["--lr", "nan"], "argument --lr: must be 0 or more"),
        (["--beta1", "1.5"], "argument --beta1: must be in [0, 1)"),
        (["--beta2", "-0.1"], "argument --beta2: must be in [0, 1)"),
        (["--eps", "-1"], "argument --eps: must be 0 or more"),
        (["--weight_decay", "-1"], "argument --weight_decay: must be 0 or more"),
        (["--dropout", "2"], "argument --dropout: must be in [0, 1)"),
        (["--epochs", "-1"], "argument --epochs: must be a positive integer"),
        (["--batch_size", "0"], "argument --batch_size: must be a positive integer"),
        (["--precision", "bogus"], "argument --precision: invalid choice: 'bogus'"),
    ],
)
def test_train_refuses_before_making_the_run_folder(capsys, tmp_path, colour_data, flags, message):
    """Each of these once failed after ``--output`` (and its tokenizer) had been written, or
    with a traceback from AdamW, the ViT's first convolution or torch.compile."""
    (tmp_path / "empty").mkdir()
    flags = [flag.format(tmp=tmp_path) for flag in flags]
    argv = ["train", "--data", colour_data["train"], "--output", str(tmp_path / "run"), *_tiny_flags()]
    err = refused(capsys, [*argv, "--workers", "0", "--batch_size", "16", *flags], tmp_path)
    assert message.format(tmp=tmp_path) in err


def test_train_without_sizes_json_makes_no_run_folder(capsys, tmp_path, colour_data):
    shard = tmp_path / "shards" / "00000.tar"
    shard.parent.mkdir()
    shard.write_bytes((colour_data["root"] / "train" / "00000.tar").read_bytes())
    argv = ["train", "--data", str(shard), "--output", str(tmp_path / "runs" / "x"), *_tiny_flags()]
    err = refused(capsys, [*argv, "--tokenizer_vocab", "50"], tmp_path)
    assert "sizes.json" in err and "--epoch_samples" in err


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--image_size", "4"], "--image_size 4 is smaller than one vit-tiny patch (8 px)"),
        (["--variants", "compile", "--compile_backend", "bogus"], "--compile_backend 'bogus': no such"),
        (["--vocab_size", "1"], "argument --vocab_size: must be more than 5"),
        (["--peak_tflops", "-1"], "argument --peak_tflops: must be 0 or more"),
        (["--dropout", "2"], "argument --dropout: must be in [0, 1)"),
    ],
)
def test_train_benchmark_mistakes_are_one_line_errors(capsys, tmp_path, flags, message):
    argv = ["train-benchmark", *_tiny_flags(), "--device", "cpu", "--batch_sizes", "2", "--steps", "1"]
    argv += ["--warmup_steps", "1", "--report", str(tmp_path / "bench.json")]
    assert message in refused(capsys, [*argv, *flags], tmp_path)
