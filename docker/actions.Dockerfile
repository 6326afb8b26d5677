# The action server. Pins: requirements/rasa.lock.txt (same file as scripts/setup_env.sh).
FROM python:3.10.13-slim
WORKDIR /app
ENV PYTHONPATH=/app SANIC_HOST=0.0.0.0
COPY requirements/rasa.lock.txt requirements/rasa.lock.txt
RUN pip install --no-cache-dir --no-deps -r requirements/rasa.lock.txt && pip check
COPY trial trial
COPY contract contract
COPY actions actions
# The symptom words beside the red-flag rules (actions/understanding.py reads them).
COPY nlu/patterns/red_flags.yml nlu/patterns/red_flags.yml
EXPOSE 5055
CMD ["python", "-m", "rasa_sdk", "--actions", "actions", "--port", "5055"]
