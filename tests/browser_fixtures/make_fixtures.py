"""Write the browser test's fixture notebooks: `cd tests/browser_fixtures && python make_fixtures.py`."""
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def save(name, cells):
    nb = new_notebook(cells=cells, metadata={"kernelspec": KERNELSPEC,
                                             "language_info": {"name": "python"}})
    for number, cell in enumerate(nb.cells):
        cell.id = f"{name.split('.')[0].replace('_', '-')}-{number}"
    nbformat.write(nb, name)


save("good.ipynb", [
    new_markdown_cell("# Browser-test fixture: a notebook that must pass\n\n"
                      "A slider drives a plot, a dropdown drives printed text, an exercise stub "
                      "tagged `raises-exception` raises `NotImplementedError`, and the cells after it still run."),
    new_code_cell("import sys\n\nimport ipywidgets as widgets\nimport matplotlib.pyplot as plt\nimport numpy as np"),
    new_code_cell(
        "def draw_line(slope=1.0):\n"
        "    x = np.linspace(-2, 2, 50)\n"
        "    fig, ax = plt.subplots(figsize=(4, 2.5))\n"
        "    ax.plot(x, slope * x)\n"
        "    ax.set_ylim(-10, 10)\n"
        "    ax.set_title(f\"slope = {slope:.2f}\")\n"
        "    plt.show()\n\n\n"
        "widgets.interactive(draw_line, slope=widgets.FloatSlider(value=1.0, min=-5.0, max=5.0, step=0.1,\n"
        "                                                         description=\"slope\"))"),
    new_code_cell(
        "def describe(loss=\"mse\"):\n"
        "    print(f\"You picked the {loss} loss.\")\n\n\n"
        "widgets.interactive(describe, loss=[\"mse\", \"mae\", \"huber\"])"),
    new_code_cell("def exercise_stub():\n    # YOUR CODE HERE\n    raise NotImplementedError()\n\n\nexercise_stub()",
                  metadata={"tags": ["raises-exception"]}),
    new_code_cell("print(\"progress: 1/1 (stderr, not an error)\", file=sys.stderr)"),
    new_code_cell(""),
    new_code_cell("print(\"the last cell ran\")"),
])

save("broken_widget.ipynb", [
    new_markdown_cell("# Browser-test fixture: widgets that cannot render\n\n"
                      "The checks must report both widget cells below."),
    new_code_cell("import ipywidgets as widgets\nfrom IPython.display import display\nfrom traitlets import Unicode"),
    new_code_cell("widgets.IntSlider(description=\"fine\")"),
    new_code_cell(
        "class Ghost(widgets.DOMWidget):\n"
        "    \"\"\"A widget whose front-end module does not exist.\"\"\"\n"
        "    _model_name = Unicode(\"GhostModel\").tag(sync=True)\n"
        "    _model_module = Unicode(\"nonexistent-widget-module\").tag(sync=True)\n"
        "    _model_module_version = Unicode(\"^1.0.0\").tag(sync=True)\n"
        "    _view_name = Unicode(\"GhostView\").tag(sync=True)\n"
        "    _view_module = Unicode(\"nonexistent-widget-module\").tag(sync=True)\n"
        "    _view_module_version = Unicode(\"^1.0.0\").tag(sync=True)\n\n\n"
        "Ghost()"),
    new_code_cell(
        "# A widget view whose model the kernel does not know (what a notebook saved with widget outputs shows).\n"
        "display({\"application/vnd.jupyter.widget-view+json\": {\"model_id\": \"0123456789abcdef0123456789abcdef\",\n"
        "                                                       \"version_major\": 2, \"version_minor\": 0}}, raw=True)"),
])

save("raises.ipynb", [
    new_markdown_cell("# Browser-test fixture: a cell that raises\n\nRun All stops at the untagged error."),
    new_code_cell("import ipywidgets as widgets\n\nwidgets.IntSlider(description=\"n\")"),
    new_code_cell("raise ValueError(\"this cell is broken on purpose\")"),
    new_code_cell("print(\"never reached under Run All\")"),
])

save("dead_widget.ipynb", [
    new_markdown_cell("# Browser-test fixture: a slider that moves but redraws nothing"),
    new_code_cell("import ipywidgets as widgets\nimport matplotlib.pyplot as plt"),
    new_code_cell(
        "def ignores_its_control(lr=0.1):\n"
        "    fig, ax = plt.subplots(figsize=(3, 2))\n"
        "    ax.plot([0, 1, 2], [3, 1, 2])\n"
        "    plt.show()\n\n\n"
        "widgets.interactive(ignores_its_control, lr=widgets.FloatSlider(value=0.1, min=0.0, max=1.0, step=0.01))"),
])

save("callback_error.ipynb", [
    new_markdown_cell("# Browser-test fixture: a slider whose callback raises\n\n"
                      "The traceback goes to JupyterLab's log console, not to any cell."),
    new_code_cell("import ipywidgets as widgets\nfrom IPython.display import display"),
    new_code_cell(
        "slider = widgets.FloatSlider(value=0.1, min=0.0, max=1.0, step=0.01, description=\"lr\")\n"
        "shown = widgets.HTML(\"lr = 0.10\")\n\n\n"
        "def on_change(change):\n"
        "    raise ValueError(f\"callback failed for lr={change['new']}\")\n\n\n"
        "slider.observe(on_change, names=\"value\")\n"
        "display(slider, shown)"),
])
