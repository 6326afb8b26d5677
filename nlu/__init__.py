"""NLU extensions loaded by the Rasa server: rule-based entity extraction.

`nlu.extract` is pure spaCy (no Rasa import) and holds the extraction logic;
`nlu.components` wraps it as Rasa 3.6 graph components. Importing this
package imports neither, so the action server and tests stay light.
"""
